package index

import (
	"encoding/binary"
	"sort"
	"sync"

	"github.com/batpak-go/batpak/event"
)

// Entry locates one committed event and carries the fields queries filter on.
type Entry struct {
	Global   uint64
	Sequence uint64
	Segment  uint32 // segment id (ids above 2^32 are refused by the writer)
	Offset   uint32 // frame offset within the segment
	Size     uint32 // frame size including its header
	Entity   uint32 // interned entity number; see EntityName
	Scope    uint32 // interned scope number; see ScopeName
	Kind     event.EventKind
}

// Pending is an entry as the writer stages it, before interning.
type Pending struct {
	ID      event.ID
	Entity  string
	Scope   string
	IdemKey string // "" if none
	// Correlation is the event's workflow; zero or equal to ID for an event
	// that is its own (most are), which the correlation index skips.
	Correlation event.ID
	Causation   event.ID       // zero if none
	Position    event.Position // the event's clock reading
	Kind        event.EventKind
	Global      uint64
	Sequence    uint64
	Segment     uint32
	Offset      uint32
	Size        uint32
}

// Index is safe for one publishing goroutine and many readers.
type Index struct {
	mu sync.RWMutex
	// Guarded by mu; slices only grow, so snapshots stay valid after unlock.
	entries chunked[Entry]
	// ids holds each entry's id, in entry order. The writer makes ids
	// strictly increasing in global order (also across restarts), so ids is
	// sorted and LookupID is a binary search: no hash table to grow on the
	// write path, 16 bytes an event, and a checkpoint loads by copying. An
	// id out of order — one an import kept from another store, whose ids
	// need not increase (batpak.Importer), or damage — is kept in
	// idOverflow and its slot repeats the previous id, so ids stays sorted.
	ids         idList // with fences: see ids.go
	lastID      event.ID
	idOverflow  map[event.ID]uint32
	entityNum   map[string]uint32
	entityName  []string
	entityCoord []event.Coordinate // by entity number: the coordinate of its first event
	streams     []chunked[uint32]  // entry positions by entity number
	scopeNum    map[string]uint32
	scopeName   []string
	scopes      []chunked[uint32] // entry positions by scope number
	scopeOrder  orderState        // the scope names in sorted order, for prefixes (scopes.go); cur guarded by mu
	kinds       map[event.EventKind]*chunked[uint32]
	keys        map[string]uint32     // idempotency key → entry position
	corr        map[event.ID][]uint32 // correlation id → positions of the events not their own (see correlation.go)
	// What headers need besides the entries (headers.go): each entry's
	// clock reading, by position; the links (correlation, causation) of
	// the events that have any, in position order; and the real ids of
	// the entries whose slot in ids repeats an earlier id, by position.
	clocks  chunked[clock]
	links   chunked[link]
	overPos map[uint32]event.ID
	// prev holds, by position, the position of the entry before it in its
	// entity's stream (noPrev for an entity's first), so that a Get finds
	// the predecessor whose hash it returns beside the entry, not through
	// the stream's list: one dependent memory access fewer (LookupIDLinked).
	// Derived from the streams: never in a checkpoint.
	prev chunked[uint32]
	// gen counts Rewrites: positions taken in one generation mean nothing
	// in another (ScanHeaders).
	gen uint64
	// vacancies is set once Rewrite has dropped entries: some entities or
	// scopes may then have empty lists (see Rewrite).
	vacancies bool
}

// New returns an empty index.
func New() *Index {
	return &Index{
		idOverflow: make(map[event.ID]uint32),
		overPos:    make(map[uint32]event.ID),
		entityNum:  make(map[string]uint32),
		scopeNum:   make(map[string]uint32),
		kinds:      make(map[event.EventKind]*chunked[uint32]),
		keys:       make(map[string]uint32),
	}
}

// Publish adds entries, which must be in increasing global order and follow
// every entry already published.
func (x *Index) Publish(ps []Pending) {
	if len(ps) == 0 {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for i := range ps {
		x.add(&ps[i])
	}
}

func (x *Index) add(p *Pending) {
	pos := uint32(x.entries.n)
	sn, ok := x.scopeNum[p.Scope]
	if !ok {
		sn = uint32(len(x.scopeName))
		x.scopeNum[p.Scope] = sn
		x.scopeName = append(x.scopeName, p.Scope)
		x.scopes = append(x.scopes, chunked[uint32]{})
	}
	en, ok := x.entityNum[p.Entity]
	if !ok {
		en = uint32(len(x.entityName))
		x.entityNum[p.Entity] = en
		x.entityName = append(x.entityName, p.Entity)
		// The coordinate shares the interned scope name (headers compare it).
		c, _ := event.NewCoordinate(p.Entity, x.scopeName[sn]) // validated by the writer or the scan
		x.entityCoord = append(x.entityCoord, c)
		x.streams = append(x.streams, chunked[uint32]{})
	}
	x.entries.push(Entry{
		Global: p.Global, Sequence: p.Sequence, Segment: p.Segment, Offset: p.Offset,
		Size: p.Size, Entity: en, Scope: sn, Kind: p.Kind,
	})
	if p.ID.Compare(x.lastID) > 0 {
		x.ids.push(p.ID)
		x.lastID = p.ID
	} else {
		x.ids.push(x.lastID)
		x.idOverflow[p.ID] = pos
		x.overPos[pos] = p.ID
	}
	x.clocks.push(clockOf(p.Position))
	if l, ok := linkOf(pos, p.ID, p.Correlation, p.Causation); ok {
		x.links.push(l)
	}
	x.pushStream(en, pos)
	x.scopes[sn].push(pos)
	kl := x.kinds[p.Kind]
	if kl == nil {
		kl = &chunked[uint32]{}
		x.kinds[p.Kind] = kl
	}
	kl.push(pos)
	if p.IdemKey != "" {
		x.keys[p.IdemKey] = pos
	}
	if correlated(p.ID, p.Correlation) {
		x.addCorrelation(pos, p.Correlation)
	}
}

// noPrev is prev's mark of an entity's first entry.
const noPrev = ^uint32(0)

// pushStream appends position pos to entity en's stream and records the
// stream's previous last entry as pos's predecessor.
func (x *Index) pushStream(en, pos uint32) {
	s, p := &x.streams[en], noPrev
	if s.n > 0 {
		p = *s.last()
	}
	x.prev.push(p)
	s.push(pos)
}

// LookupKey returns the entry appended with an idempotency key.
func (x *Index) LookupKey(key string) (Entry, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	pos, ok := x.keys[key]
	if !ok {
		return Entry{}, false
	}
	return *x.entries.view().at(int(pos)), true
}

// Len is the number of published entries.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.entries.n
}

// LastGlobal is the global sequence of the newest published entry, 0 if none.
func (x *Index) LastGlobal() uint64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.entries.n == 0 {
		return 0
	}
	return x.entries.last().Global
}

// Counts returns the number of entries, entities and scopes.
func (x *Index) Counts() (events, entities, scopes int) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.vacancies {
		return x.entries.n, liveCount(x.streams), liveCount(x.scopes)
	}
	return x.entries.n, len(x.entityName), len(x.scopeName)
}

// LookupID returns the entry of an id.
func (x *Index) LookupID(id event.ID) (Entry, bool) {
	pos, entries, _, ok := x.findID(id)
	if !ok {
		return Entry{}, false
	}
	return *entries.at(pos), true
}

// LookupIDLinked returns the entry of an id and, if the index holds it,
// the entry before it in its entity's stream (the event with the previous
// sequence), both from one lock and one search: the predecessor's
// position is kept beside the entry's (prev), so its lookup does not wait
// for the stream's list.
func (x *Index) LookupIDLinked(id event.ID) (e, pe Entry, hasPrev, ok bool) {
	pos, entries, prev, ok := x.findID(id)
	if !ok {
		return Entry{}, Entry{}, false, false
	}
	e = *entries.at(pos)
	if p := *prev.at(pos); p != noPrev && e.Sequence > 0 {
		if pe = *entries.at(int(p)); pe.Sequence == e.Sequence-1 {
			return e, pe, true, true
		}
	}
	return e, Entry{}, false, true
}

// findID returns the position of id's entry, with views of the entries
// and of prev taken with the id list (so they hold that position). The
// search runs after the lock is released, on the snapshot.
func (x *Index) findID(id event.ID) (pos int, entries view[Entry], prev view[uint32], ok bool) {
	x.mu.RLock()
	ids, entries, prev := x.ids.snapshot(), x.entries.view(), x.prev.view()
	p, overflow := x.idOverflow[id]
	x.mu.RUnlock()
	if overflow {
		return int(p), entries, prev, true
	}
	if i := ids.search(id); i < ids.ids.n && *ids.ids.at(i) == id {
		return i, entries, prev, true
	}
	return 0, entries, prev, false
}

// searchIDs returns the first position whose id is >= id: a search over
// the chunks' first ids (a small, cache-resident array), then within one
// chunk.
func searchIDs(v view[event.ID], id event.ID) int {
	if v.chunks == nil {
		return lowerBound(v.small[:v.n], id)
	}
	full := (v.n + chunkLen - 1) >> chunkBits
	c := sort.Search(full, func(c int) bool { return v.chunks[c][0].Compare(id) > 0 }) - 1
	if c < 0 {
		return 0
	}
	return c<<chunkBits + lowerBound(v.chunks[c][:min(chunkLen, v.n-c<<chunkBits)], id)
}

// lowerBound returns the first index of sorted ids whose id is >= id. It
// compares the ids as two big-endian words (their byte order), without
// the callback of sort.Search: a lookup by id is mostly this loop.
func lowerBound(ids []event.ID, id event.ID) int {
	hi, lo := binary.BigEndian.Uint64(id[:8]), binary.BigEndian.Uint64(id[8:])
	i, n := 0, len(ids)
	for n > 0 {
		half := n / 2
		m := &ids[i+half]
		mh := binary.BigEndian.Uint64(m[:8])
		if mh < hi || (mh == hi && binary.BigEndian.Uint64(m[8:]) < lo) {
			i += half + 1
			n -= half + 1
		} else {
			n = half
		}
	}
	return i
}

// NewestUUIDv7 returns the greatest id that is a UUIDv7, zero if none: the
// floor of the writer's id generator when it starts (imported ids need
// not increase, and an imported id that is not a UUIDv7 does not count).
// It may walk the whole id list; the writer calls it once, at Open.
func (x *Index) NewestUUIDv7() (newest event.ID) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for id := range x.idOverflow {
		if id.IsUUIDv7() && id.Compare(newest) > 0 {
			newest = id
		}
	}
	ids := x.ids.view()
	for i := ids.n - 1; i >= 0; i-- {
		if id := ids.at(i); id.IsUUIDv7() {
			if id.Compare(newest) > 0 {
				newest = *id
			}
			break // the list is sorted: the first from the top is its greatest
		}
	}
	return newest
}

// EntityName returns the entity of an entry's Entity number.
func (x *Index) EntityName(n uint32) string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.entityName[n]
}

// ScopeName returns the scope of an entry's Scope number.
func (x *Index) ScopeName(n uint32) string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.scopeName[n]
}

// Coordinate returns an entry's coordinate. Each entity keeps the
// coordinate of its first event, validated once when the entity was
// interned; an event in another scope gets a freshly built one.
func (x *Index) Coordinate(e Entry) event.Coordinate {
	x.mu.RLock()
	c, scope := x.entityCoord[e.Entity], x.scopeName[e.Scope]
	x.mu.RUnlock()
	if c.Scope() == scope {
		return c
	}
	c, _ = event.NewCoordinate(c.Entity(), scope) // names in the index are valid
	return c
}

// Latest returns the newest entry of an entity.
func (x *Index) Latest(entity string) (Entry, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	en, ok := x.entityNum[entity]
	if !ok || x.streams[en].n == 0 { // empty: every event dropped by compaction
		return Entry{}, false
	}
	return *x.entries.view().at(int(*x.streams[en].last())), true
}

// StreamEntry returns an entity's event with sequence seq.
func (x *Index) StreamEntry(entity string, seq uint64) (Entry, bool) {
	s := x.snapshotStream(entity)
	if i := s.searchSeq(seq); i < s.len() && s.at(i).Sequence == seq {
		return *s.at(i), true
	}
	return Entry{}, false
}

// RunStart walks back from the entry of global sequence g through the
// entries whose frames directly follow their predecessor's in the same
// segment, nothing between them, and returns the first: where g's run
// starts. Within a segment only records that are not events — batch
// markers, a compacted segment's first record — separate two entries, so
// a run is either one atomic batch, whose BEGIN marker lies right before
// it, or events appended alone one after another; the bytes before the
// run, from gap (its predecessor's frame end, or 0 when the run starts
// its segment) to first.Offset, say which.
//
// The walk stops early, with atFloor set, at an entry whose global
// sequence is at or below floor: the caller already knows g's run from
// there on. ok is false if no entry has global sequence g.
func (x *Index) RunStart(g, floor uint64) (first Entry, gap uint32, atFloor, ok bool) {
	s := x.snapshotAll()
	i := s.searchGlobal(g)
	if i == s.len() || s.at(i).Global != g {
		return Entry{}, 0, false, false
	}
	cur := s.at(i)
	for ; i > 0; i-- {
		prev := s.at(i - 1)
		if prev.Segment != cur.Segment {
			break
		}
		if end := prev.Offset + prev.Size; end != cur.Offset {
			return *cur, end, false, true
		}
		if prev.Global <= floor {
			return *cur, 0, true, true
		}
		cur = prev
	}
	return *cur, 0, false, true
}

// snapshot is a lock-free view of a list of entries: the entries and a
// list of positions in them as they were when taken, or every entry.
type snapshot struct {
	entries view[Entry]
	pos     view[uint32]
	all     bool
}

func (s snapshot) len() int {
	if s.all {
		return s.entries.n
	}
	return s.pos.n
}

// posAt is the position of the entry at index i.
func (s snapshot) posAt(i int) uint32 {
	if s.all {
		return uint32(i)
	}
	return *s.pos.at(i)
}

func (s snapshot) at(i int) *Entry {
	if s.all {
		return s.entries.at(i)
	}
	return s.entries.at(int(*s.pos.at(i)))
}

// posRun is a stretch of a snapshot's list that one slice holds (see
// snapshot.run).
type posRun struct {
	pos   []uint32 // the positions; nil for a snapshot of every entry
	first uint32   // then: the position of the first
	n     int
}

func (r posRun) len() int { return r.n }

// posAt is the position of the run's j-th entry.
func (r posRun) posAt(j int) uint32 {
	if r.pos == nil {
		return r.first + uint32(j)
	}
	return r.pos[j]
}

// run returns the entries from index i up to the end of the chunk of the
// position list that holds i, or end (for a snapshot of every entry: all
// of them up to end, whose positions are their indexes).
func (s snapshot) run(i, end int) posRun {
	if s.all {
		return posRun{first: uint32(i), n: end - i}
	}
	ps := s.pos.runAt(i, end)
	return posRun{pos: ps, n: len(ps)}
}

// searchGlobal returns the first index whose entry has Global >= g.
func (s snapshot) searchGlobal(g uint64) int {
	return sort.Search(s.len(), func(i int) bool { return s.at(i).Global >= g })
}

// searchAbove returns the first index whose entry has Global > g.
func (s snapshot) searchAbove(g uint64) int {
	return sort.Search(s.len(), func(i int) bool { return s.at(i).Global > g })
}

// searchSeq returns the first index whose entry has Sequence >= seq (for
// entity streams, which are in sequence order).
func (s snapshot) searchSeq(seq uint64) int {
	n := s.len()
	// Without compaction gaps, sequence i sits at index i.
	if seq < uint64(n) && s.at(int(seq)).Sequence == seq {
		return int(seq)
	}
	return sort.Search(n, func(i int) bool { return s.at(i).Sequence >= seq })
}

func (x *Index) snapshotAll() snapshot {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return snapshot{entries: x.entries.view(), all: true}
}

// snapshotList snapshots one of the position lists; nil means empty.
func (x *Index) snapshotList(list func() *chunked[uint32]) snapshot {
	x.mu.RLock()
	defer x.mu.RUnlock()
	l := list()
	if l == nil {
		return snapshot{}
	}
	return snapshot{entries: x.entries.view(), pos: l.view()}
}

func (x *Index) snapshotStream(entity string) snapshot {
	return x.snapshotList(func() *chunked[uint32] {
		if en, ok := x.entityNum[entity]; ok {
			return &x.streams[en]
		}
		return nil
	})
}

func (x *Index) snapshotScope(scope string) snapshot {
	return x.snapshotList(func() *chunked[uint32] {
		if sn, ok := x.scopeNum[scope]; ok {
			return &x.scopes[sn]
		}
		return nil
	})
}

func (x *Index) snapshotKind(k event.EventKind) snapshot {
	return x.snapshotList(func() *chunked[uint32] { return x.kinds[k] })
}
