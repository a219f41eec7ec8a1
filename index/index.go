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
	ID       event.ID
	Entity   string
	Scope    string
	IdemKey  string // "" if none
	Kind     event.EventKind
	Global   uint64
	Sequence uint64
	Segment  uint32
	Offset   uint32
	Size     uint32
}

// list is an append-only list of entry positions (indexes into entries).
type list struct{ pos []uint32 }

// Index is safe for one publishing goroutine and many readers.
type Index struct {
	mu sync.RWMutex
	// Guarded by mu; slices only grow, so snapshots stay valid after unlock.
	entries []Entry
	// byID maps a 64-bit fold of the id to the entry position. Two ids
	// folding alike are rare; the second goes to idOverflow, and readers
	// confirm the id in the frame they read (see LookupID).
	byID       map[uint64]uint32
	idOverflow map[event.ID]uint32
	entityNum  map[string]uint32
	entityName []string
	streams    []list // by entity number
	scopeNum   map[string]uint32
	scopeName  []string
	scopes     []list // by scope number
	kinds      map[event.EventKind]*list
	keys       map[string]uint32 // idempotency key → entry position
}

// New returns an empty index.
func New() *Index {
	return &Index{
		byID:       make(map[uint64]uint32),
		idOverflow: make(map[event.ID]uint32),
		entityNum:  make(map[string]uint32),
		scopeNum:   make(map[string]uint32),
		kinds:      make(map[event.EventKind]*list),
		keys:       make(map[string]uint32),
	}
}

func foldID(id event.ID) uint64 {
	return binary.LittleEndian.Uint64(id[:8]) ^ binary.LittleEndian.Uint64(id[8:])
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
	pos := uint32(len(x.entries))
	en, ok := x.entityNum[p.Entity]
	if !ok {
		en = uint32(len(x.entityName))
		x.entityNum[p.Entity] = en
		x.entityName = append(x.entityName, p.Entity)
		x.streams = append(x.streams, list{})
	}
	sn, ok := x.scopeNum[p.Scope]
	if !ok {
		sn = uint32(len(x.scopeName))
		x.scopeNum[p.Scope] = sn
		x.scopeName = append(x.scopeName, p.Scope)
		x.scopes = append(x.scopes, list{})
	}
	x.entries = append(x.entries, Entry{
		Global: p.Global, Sequence: p.Sequence, Segment: p.Segment, Offset: p.Offset,
		Size: p.Size, Entity: en, Scope: sn, Kind: p.Kind,
	})
	if _, taken := x.byID[foldID(p.ID)]; taken {
		x.idOverflow[p.ID] = pos
	} else {
		x.byID[foldID(p.ID)] = pos
	}
	x.streams[en].pos = append(x.streams[en].pos, pos)
	x.scopes[sn].pos = append(x.scopes[sn].pos, pos)
	kl := x.kinds[p.Kind]
	if kl == nil {
		kl = &list{}
		x.kinds[p.Kind] = kl
	}
	kl.pos = append(kl.pos, pos)
	if p.IdemKey != "" {
		x.keys[p.IdemKey] = pos
	}
}

// LookupKey returns the entry appended with an idempotency key.
func (x *Index) LookupKey(key string) (Entry, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	pos, ok := x.keys[key]
	if !ok {
		return Entry{}, false
	}
	return x.entries[pos], true
}

// Len is the number of published entries.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.entries)
}

// LastGlobal is the global sequence of the newest published entry, 0 if none.
func (x *Index) LastGlobal() uint64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if len(x.entries) == 0 {
		return 0
	}
	return x.entries[len(x.entries)-1].Global
}

// Counts returns the number of entries, entities and scopes.
func (x *Index) Counts() (events, entities, scopes int) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.entries), len(x.entityName), len(x.scopeName)
}

// LookupID returns the entry whose id folds like id. The caller must confirm
// the id in the frame it reads and, if it differs, call LookupIDExact.
func (x *Index) LookupID(id event.ID) (Entry, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	pos, ok := x.byID[foldID(id)]
	if !ok {
		return Entry{}, false
	}
	return x.entries[pos], true
}

// LookupIDExact finds an id that shares its fold with another (rare).
func (x *Index) LookupIDExact(id event.ID) (Entry, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	pos, ok := x.idOverflow[id]
	if !ok {
		return Entry{}, false
	}
	return x.entries[pos], true
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

// Latest returns the newest entry of an entity.
func (x *Index) Latest(entity string) (Entry, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	en, ok := x.entityNum[entity]
	if !ok {
		return Entry{}, false
	}
	p := x.streams[en].pos
	return x.entries[p[len(p)-1]], true
}

// StreamEntry returns an entity's event with sequence seq.
func (x *Index) StreamEntry(entity string, seq uint64) (Entry, bool) {
	s := x.snapshotStream(entity)
	i := s.searchSeq(seq)
	if i < len(s.pos) && s.entries[s.pos[i]].Sequence == seq {
		return s.entries[s.pos[i]], true
	}
	return Entry{}, false
}

// EntitiesWithPrefix returns the names of entities starting with prefix, in
// order of first appearance.
func (x *Index) EntitiesWithPrefix(prefix string) []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []string
	for _, name := range x.entityName {
		if len(name) >= len(prefix) && name[:len(prefix)] == prefix {
			out = append(out, name)
		}
	}
	return out
}

// snapshot is a lock-free view of a list: entry positions and the entries
// slice as they were when taken.
type snapshot struct {
	entries []Entry
	pos     []uint32 // nil with all set: every entry in order
	all     bool
}

func (s snapshot) len() int {
	if s.all {
		return len(s.entries)
	}
	return len(s.pos)
}

func (s snapshot) at(i int) *Entry {
	if s.all {
		return &s.entries[i]
	}
	return &s.entries[s.pos[i]]
}

// searchGlobal returns the first index whose entry has Global >= g.
func (s snapshot) searchGlobal(g uint64) int {
	return sort.Search(s.len(), func(i int) bool { return s.at(i).Global >= g })
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
	return snapshot{entries: x.entries, all: true}
}

func (x *Index) snapshotStream(entity string) snapshot {
	x.mu.RLock()
	defer x.mu.RUnlock()
	en, ok := x.entityNum[entity]
	if !ok {
		return snapshot{}
	}
	return snapshot{entries: x.entries, pos: x.streams[en].pos}
}

func (x *Index) snapshotScope(scope string) snapshot {
	x.mu.RLock()
	defer x.mu.RUnlock()
	sn, ok := x.scopeNum[scope]
	if !ok {
		return snapshot{}
	}
	return snapshot{entries: x.entries, pos: x.scopes[sn].pos}
}

func (x *Index) snapshotKind(k event.EventKind) snapshot {
	x.mu.RLock()
	defer x.mu.RUnlock()
	kl := x.kinds[k]
	if kl == nil {
		return snapshot{}
	}
	return snapshot{entries: x.entries, pos: kl.pos}
}
