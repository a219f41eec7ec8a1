package index

import "github.com/batpak-go/batpak/event"

// Rewrite changes the index in one step, as compaction needs: keep sees
// every entry in global order and returns false to drop it, or may change
// its Segment, Offset and Size, and its Kind (to event.KindTombstone, for
// a tombstone), never its other fields. Readers see the
// index before or after, never between: the lists are rebuilt afresh and
// swapped in under the lock, and views taken before keep the old ones.
//
// Entity and scope numbers do not change (an Entry taken before still
// resolves to its names): an entity whose every entry was dropped keeps its
// number with an empty stream and is no longer listed or counted. It
// returns the number of entries dropped. The publisher is held off while
// it runs (time proportional to the index's size).
func (x *Index) Rewrite(keep func(e *Entry) bool) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	old, at := x.entries.view(), x.byPosition()
	y := &Index{
		idOverflow: make(map[event.ID]uint32),
		overPos:    make(map[uint32]event.ID),
		streams:    make([]chunked[uint32], len(x.streams)),
		scopes:     make([]chunked[uint32], len(x.scopes)),
		kinds:      make(map[event.EventKind]*chunked[uint32]),
		keys:       make(map[string]uint32, len(x.keys)),
	}
	dropped := 0
	for i := 0; i < old.n; i++ {
		e := *old.at(i)
		if !keep(&e) {
			dropped++
			continue
		}
		id := at.id(i)
		y.place(e, id, at.key[uint32(i)], *at.clocks.at(i))
		if l, ok := at.link(i); ok {
			pos := uint32(y.entries.n - 1)
			y.links.push(link{pos: pos, corr: l.corr, cause: l.cause})
			if !l.corr.IsZero() {
				y.addCorrelation(pos, l.corr)
			}
		}
	}
	x.entries, x.ids, x.lastID, x.idOverflow, x.overPos = y.entries, y.ids, y.lastID, y.idOverflow, y.overPos
	x.streams, x.scopes, x.kinds, x.keys = y.streams, y.scopes, y.kinds, y.keys
	x.corr, x.clocks, x.links, x.prev = y.corr, y.clocks, y.links, y.prev
	x.vacancies = x.vacancies || dropped > 0
	x.gen++
	return dropped
}

// place appends an entry whose entity and scope numbers are already
// interned, with its id, idempotency key ("" if none) and clock reading;
// the caller adds its link.
func (x *Index) place(e Entry, id event.ID, key string, c clock) {
	pos := uint32(x.entries.n)
	x.entries.push(e)
	if id.Compare(x.lastID) > 0 {
		x.ids.push(id)
		x.lastID = id
	} else {
		x.ids.push(x.lastID)
		x.idOverflow[id] = pos
		x.overPos[pos] = id
	}
	x.clocks.push(c)
	x.pushStream(e.Entity, pos)
	x.scopes[e.Scope].push(pos)
	kl := x.kinds[e.Kind]
	if kl == nil {
		kl = &chunked[uint32]{}
		x.kinds[e.Kind] = kl
	}
	kl.push(pos)
	if key != "" {
		x.keys[key] = pos
	}
}

// Rebuilt returns a new index holding the same entries, with entity and
// scope numbers assigned afresh in order of first appearance — as a scan
// of the log would assign them — and each entry's segment mapped by seg.
// The store writes its checkpoint from it after a compaction, so the
// checkpoint holds neither vacant entities nor in-memory segment ids.
func (x *Index) Rebuilt(seg func(uint32) uint32) *Index {
	x.mu.RLock()
	defer x.mu.RUnlock()
	old, at := x.entries.view(), x.byPosition()
	y := New()
	for i := 0; i < old.n; i++ {
		e := old.at(i)
		p := Pending{
			ID: at.id(i), Entity: x.entityName[e.Entity], Scope: x.scopeName[e.Scope], IdemKey: at.key[uint32(i)],
			Position: at.clocks.at(i).position(), Kind: e.Kind, Global: e.Global, Sequence: e.Sequence,
			Segment: seg(e.Segment), Offset: e.Offset, Size: e.Size,
		}
		if l, ok := at.link(i); ok {
			p.Correlation, p.Causation = l.corr, l.cause
		}
		y.add(&p)
	}
	return y
}

// positional is what an index keeps about its entries outside the entry
// lists (ids out of order, idempotency keys, clock readings, links), by
// position, for rebuilding the lists entry by entry.
type positional struct {
	ids    view[event.ID]
	over   map[uint32]event.ID
	key    map[uint32]string
	clocks view[clock]
	links  view[link]
	next   int // the next link to look at: positions are asked for in order
}

// byPosition collects positional data. Callers hold x.mu.
func (x *Index) byPosition() *positional {
	p := &positional{
		ids:    x.ids.view(),
		over:   x.overPos,
		key:    make(map[uint32]string, len(x.keys)),
		clocks: x.clocks.view(),
		links:  x.links.view(),
	}
	for k, pos := range x.keys {
		p.key[pos] = k
	}
	return p
}

// link returns the link of the entry at position i; positions must be
// asked for in increasing order.
func (p *positional) link(i int) (*link, bool) {
	for p.next < p.links.n && p.links.at(p.next).pos < uint32(i) {
		p.next++
	}
	if p.next < p.links.n && p.links.at(p.next).pos == uint32(i) {
		return p.links.at(p.next), true
	}
	return nil, false
}

// id is the id of the entry at position i.
func (p *positional) id(i int) event.ID {
	if id, ok := p.over[uint32(i)]; ok {
		return id
	}
	return *p.ids.at(i)
}

// liveCount counts the non-empty lists of ls (entities or scopes whose
// entries were all dropped by Rewrite are empty). Callers hold x.mu.
func liveCount(ls []chunked[uint32]) int {
	n := 0
	for i := range ls {
		if ls[i].n > 0 {
			n++
		}
	}
	return n
}
