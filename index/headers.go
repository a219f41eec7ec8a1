package index

import (
	"sort"

	"github.com/batpak-go/batpak/event"
)

// Headers. Besides the entries, the index keeps what an event's header
// needs that an entry does not hold, so that metadata-only reads
// (ScanHeaders) never read a frame:
//
//   - clocks: every event's clock reading (event.Position), 12 bytes an
//     event, by position;
//   - links: the correlation and causation of the events that are not
//     their own correlation or that name a cause, 36 bytes each, in
//     position order (most events have neither, and cost nothing there);
//   - overPos: the real id of an entry whose slot in the sorted id list
//     repeats an earlier id (an imported id out of order; see ids).
//
// The chain hash (32 bytes an event) is left out: it would take the index
// past its memory budget of 100 bytes an event (docs/TUNING.md).

// clock is an event.Position in 12 bytes: an event.Position is 16 with its
// padding, and 4 bytes on every event add up.
type clock struct{ wallLo, wallHi, counter uint32 }

const clockSize = 12

func clockOf(p event.Position) clock {
	return clock{wallLo: uint32(p.WallMS), wallHi: uint32(p.WallMS >> 32), counter: p.Counter}
}

func (c clock) position() event.Position {
	return event.Position{WallMS: uint64(c.wallHi)<<32 | uint64(c.wallLo), Counter: c.counter}
}

// link is the correlation and causation of the entry at pos; a zero
// correlation means the event is its own.
type link struct {
	pos         uint32
	corr, cause event.ID
}

const linkSize = 36

// linkOf returns the link of an event at pos, and false if it needs none:
// its own correlation and no cause.
func linkOf(pos uint32, id, corr, cause event.ID) (link, bool) {
	if !correlated(id, corr) {
		corr = event.ID{}
	}
	return link{pos: pos, corr: corr, cause: cause}, !corr.IsZero() || !cause.IsZero()
}

// linkCursor finds the links of increasing positions in a view of the
// links: a scan's positions only grow, so each search starts where the
// last one ended and gallops forward (1, 2, 4, … links) before it
// bisects, which costs O(log gap) rather than O(log n) a header.
type linkCursor struct {
	v view[link]
	i int // every link before i has a position below the last asked for
}

// find returns the link of position pos, if it has one; pos must not be
// below any position asked for before.
func (c *linkCursor) find(pos uint32) (*link, bool) {
	if c.i >= c.v.n {
		return nil, false
	}
	if c.v.at(c.i).pos < pos {
		// Gallop: find lo < hi with link lo below pos and link hi (or
		// the end) at or above it, then bisect between them.
		lo, step := c.i, 1
		hi := lo + step
		for hi < c.v.n && c.v.at(hi).pos < pos {
			lo, step = hi, step*2
			hi = lo + step
		}
		hi = min(hi, c.v.n)
		c.i = lo + 1 + sort.Search(hi-lo-1, func(k int) bool { return c.v.at(lo+1+k).pos >= pos })
		if c.i >= c.v.n {
			return nil, false
		}
	}
	if l := c.v.at(c.i); l.pos == pos {
		return l, true
	}
	return nil, false
}

// headerView is what turning entries into headers needs, as it was at one
// instant: views of the lists by position, and the names.
type headerView struct {
	x      *Index
	ids    view[event.ID]
	clocks view[clock]
	links  view[link]
	// over is overPos as it was (a Rewrite replaces the map, never
	// changes the old one; Publish adds to it, so it is read under the
	// lock), nil if empty.
	over        map[uint32]event.ID
	entityCoord []event.Coordinate
	scopeName   []string
	gen         uint64
}

func (x *Index) headerView() headerView {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var over map[uint32]event.ID
	if len(x.overPos) > 0 {
		over = x.overPos
	}
	return headerView{
		x: x, over: over, ids: x.ids.view(), clocks: x.clocks.view(), links: x.links.view(),
		entityCoord: x.entityCoord, scopeName: x.scopeName, gen: x.gen,
	}
}

func (x *Index) generation() uint64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.gen
}

// fill fills dst[i] with the header of entry es[i] at position ps[i],
// for positions in increasing order (links finds their links).
func (v *headerView) fill(es []Entry, ps []uint32, dst []event.IndexHeader, links *linkCursor) {
	for i := range es {
		e, pos, h := &es[i], ps[i], &dst[i]
		id := *v.ids.at(int(pos))
		if v.over != nil {
			v.x.mu.RLock()
			if real, ok := v.over[pos]; ok {
				id = real
			}
			v.x.mu.RUnlock()
		}
		corr, cause := id, event.ID{}
		if l, ok := links.find(pos); ok {
			if !l.corr.IsZero() {
				corr = l.corr
			}
			cause = l.cause
		}
		h.ID, h.Correlation, h.Causation = id, corr, cause
		// An entity's coordinate holds the scope of its first event; the
		// index interns both from the same name, so the comparison of the
		// usual case finds one pointer.
		h.Coordinate = v.entityCoord[e.Entity]
		if scope := v.scopeName[e.Scope]; h.Coordinate.Scope() != scope {
			h.Coordinate, _ = event.NewCoordinate(h.Coordinate.Entity(), scope) // names in the index are valid
		}
		h.Kind, h.Global, h.Sequence, h.Size = e.Kind, e.Global, e.Sequence, e.Size
		h.Position = v.clocks.at(int(pos)).position()
	}
}

// HeaderScan is a Scan that gives headers (event.IndexHeader) rather than
// entries: metadata-only reads, from memory alone. It is a value (on the
// reader's stack: a stream of a few headers allocates nothing).
type HeaderScan struct {
	sc    Scan
	v     headerView
	links linkCursor
	es    [headerChunk]Entry
	pos   [headerChunk]uint32
}

// headerChunk is how many entries Next takes from the scan at a time.
const headerChunk = 32

// ScanHeaders starts a scan of the headers of the events matching r with
// Global > after, in global order (Scan's order and lists), from a
// snapshot taken now.
func (x *Index) ScanHeaders(r event.Region, after uint64) (hs HeaderScan) {
	for {
		// The header view is taken after the scan's snapshot, so it
		// covers every position the scan can give; a Rewrite between the
		// two would renumber the positions: then take both again.
		g := x.generation()
		hs.sc = x.Scan(r, after)
		if hs.v = x.headerView(); hs.v.gen == g {
			hs.links = linkCursor{v: hs.v.links}
			return hs
		}
	}
}

// Next fills dst with the next headers and returns how many; 0 means the
// scan is over.
func (hs *HeaderScan) Next(dst []event.IndexHeader) int {
	n := 0
	for n < len(dst) {
		m := hs.sc.next(hs.es[:min(len(hs.es), len(dst)-n)], hs.pos[:])
		if m == 0 {
			break
		}
		hs.v.fill(hs.es[:m], hs.pos[:m], dst[n:n+m], &hs.links)
		n += m
	}
	return n
}
