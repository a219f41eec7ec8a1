package index

import (
	"slices"

	"github.com/batpak-go/batpak/event"
)

// The correlation index answers "which events belong to workflow C" without
// reading the log. Most events are their own correlation (a workflow's root,
// or an event outside any workflow), so only the others are kept: for each
// correlation id, the positions of the events that carry it. A workflow's
// root is the event whose id is the correlation id, found by id.
//
// The lists are plain slices that only grow, so a copy of a list's header
// taken under the lock stays valid (the elements below its length never
// change); appending may move a list, never the elements a reader holds.

// addCorrelation records that the entry at pos carries correlation c.
// Callers hold x.mu.
func (x *Index) addCorrelation(pos uint32, c event.ID) {
	if x.corr == nil {
		x.corr = make(map[event.ID][]uint32)
	}
	x.corr[c] = append(x.corr[c], pos)
}

// correlated reports whether an event with id id and correlation c is
// kept in the correlation index: only events not their own correlation.
func correlated(id, c event.ID) bool { return !c.IsZero() && c != id }

// Correlated returns the entries of the events that may belong to workflow
// c, in global order: every event published with correlation c other than
// its root, and the event whose id is c (the root, if it is its own
// correlation: the caller checks the event's Correlation when it reads it).
func (x *Index) Correlated(c event.ID) []Entry {
	x.mu.RLock()
	list := x.corr[c]
	entries := x.entries.view()
	x.mu.RUnlock()
	root, hasRoot := x.LookupID(c)
	out := make([]Entry, 0, len(list)+1)
	for _, pos := range list {
		out = append(out, *entries.at(int(pos)))
	}
	if hasRoot {
		// The root usually comes first; a correlation id may also name a
		// later event, so it is placed by its global sequence.
		i, _ := slices.BinarySearchFunc(out, root.Global, func(e Entry, g uint64) int {
			switch {
			case e.Global < g:
				return -1
			case e.Global > g:
				return 1
			}
			return 0
		})
		out = slices.Insert(out, i, root)
	}
	return out
}

// CorrelatedCount is the number of events kept in the correlation index
// (those not their own correlation), for statistics and tests.
func (x *Index) CorrelatedCount() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	n := 0
	for _, l := range x.corr {
		n += len(l)
	}
	return n
}
