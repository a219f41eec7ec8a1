package index

import (
	"iter"
	"math"
	"slices"

	"github.com/batpak-go/batpak/event"
)

// Query yields the entries matching r with Global > after, in global order,
// from a snapshot taken when iteration starts. It picks the narrowest list:
// the entity's stream for an exact entity, else the lists of the region's
// scopes (merged in global order when there are several: a scope set or
// prefix), else the kind's list for an exact kind, else every entry.
func (x *Index) Query(r event.Region, after uint64) iter.Seq[Entry] {
	return func(yield func(Entry) bool) {
		sc := x.Scan(r, after)
		var buf [64]Entry
		for {
			n := sc.Next(buf[:])
			if n == 0 {
				return
			}
			for i := range n {
				if !yield(buf[i]) {
					return
				}
			}
		}
	}
}

// Scan is Query in pull form: Next fills a caller's buffer with the next
// matching entries, so a reader that works a block of entries at a time
// makes one call per block rather than one callback per entry (and its
// buffer can live on its stack). The snapshot is taken by (*Index).Scan.
type Scan struct {
	x        *Index
	s        snapshot
	merge    *merger // the scopes' lists, when the region names scopes and no exact entity
	i        int     // the next index in s to look at
	r        event.Region
	stream   bool // s is the entity's stream: stop past the region's last sequence
	maxSeq   uint64
	scopes   []uint32 // the scope numbers an entity stream's entries must have, sorted
	anyScope bool
	// plain is set when every entry of s matches: no kind, sequence,
	// entity or scope rule to apply (see next).
	plain       bool
	checkEntity bool            // an entity prefix: match names
	entities    map[uint32]bool // for entity prefixes: resolved once per entity number
	examined    int             // entries looked at (tests check that other scopes' are not)
}

// Scan starts a scan of the entries matching r with Global > after, in
// global order, from a snapshot taken now (see Query).
func (x *Index) Scan(r event.Region, after uint64) Scan {
	sc := Scan{x: x, r: r, maxSeq: r.MaxSeq()}
	names, prefixes, all := r.Scopes()
	sc.anyScope = all
	if name, ok := r.ExactEntity(); ok {
		if !all {
			_, sc.scopes = x.snapshotScopes(names, prefixes)
		}
		sc.s, sc.stream = x.snapshotStream(name), true
		sc.i = sc.s.searchSeq(r.MinSequence)
		if !all && len(sc.scopes) == 0 {
			sc.i = sc.s.len() // none of its scopes exists
		}
	} else {
		switch k, exact := r.Kinds.Exact(); {
		case !all:
			// Every entry of the scopes' lists is in scope.
			lists, _ := x.snapshotScopes(names, prefixes)
			switch sc.anyScope = true; len(lists) {
			case 0: // no such scope: sc.s is empty
			case 1:
				sc.s = lists[0]
			default:
				sc.merge = newMerger(lists, after)
			}
		case exact:
			sc.s = x.snapshotKind(k)
		default:
			sc.s = x.snapshotAll()
		}
		sc.checkEntity = r.Entity != ""
	}
	sc.plain = sc.anyScope && !sc.checkEntity && r.Kinds.IsAny() && r.MinSequence == 0 && sc.maxSeq == math.MaxUint64
	if after > 0 && sc.merge == nil {
		// "Above after", not "at or above after+1": after is the caller's
		// and may be the largest uint64, above which nothing lies.
		sc.i = max(sc.i, sc.s.searchAbove(after))
	}
	return sc
}

// Next copies the next matching entries into dst and returns how many; 0
// means the scan is over.
func (sc *Scan) Next(dst []Entry) int { return sc.next(dst, nil) }

// next is Next that also gives each entry's position in pos, unless pos
// is nil (then at least as long as dst).
func (sc *Scan) next(dst []Entry, pos []uint32) int {
	if sc.merge != nil {
		return sc.nextMerged(dst, pos)
	}
	n, end := 0, sc.s.len()
	// The list is walked a run at a time: a run is the rest of one chunk
	// of the position list (or of the entries, for every entry), a plain
	// slice, so the loop below indexes nothing but it and the entries.
	// For an unfiltered region (the common read: a whole entity stream or
	// scope) each step is one copy; the rules are applied otherwise.
	for n < len(dst) && sc.i < end {
		run := sc.s.run(sc.i, end)
		k := 0
		if sc.plain {
			k = min(run.len(), len(dst)-n)
			for j := range k {
				p := run.posAt(j)
				dst[n+j] = *sc.s.entries.at(int(p))
				if pos != nil {
					pos[n+j] = p
				}
			}
			n += k
		} else {
			for ; k < run.len() && n < len(dst); k++ {
				p := run.posAt(k)
				e := sc.s.entries.at(int(p))
				if sc.stream && e.Sequence > sc.maxSeq {
					sc.examined += k + 1
					sc.i = end
					return n
				}
				if !sc.keep(e) || (!sc.anyScope && !sc.inScopes(e.Scope)) {
					continue
				}
				dst[n] = *e
				if pos != nil {
					pos[n] = p
				}
				n++
			}
		}
		sc.i += k
		sc.examined += k
	}
	return n
}

// nextMerged is Next over the merged lists of the region's scopes, whose
// entries are all in scope.
func (sc *Scan) nextMerged(dst []Entry, pos []uint32) int {
	n := 0
	for n < len(dst) {
		e, p := sc.merge.next()
		if e == nil {
			break
		}
		sc.examined++
		if sc.keep(e) {
			dst[n] = *e
			if pos != nil {
				pos[n] = p
			}
			n++
		}
	}
	return n
}

// keep applies the region's kind, sequence and entity rules.
func (sc *Scan) keep(e *Entry) bool {
	if !sc.r.Kinds.Matches(e.Kind) || e.Sequence < sc.r.MinSequence || e.Sequence > sc.maxSeq {
		return false
	}
	return !sc.checkEntity || sc.matchesEntity(e.Entity)
}

// inScopes reports whether scope number sn is one of the region's.
func (sc *Scan) inScopes(sn uint32) bool {
	if len(sc.scopes) == 1 {
		return sn == sc.scopes[0]
	}
	_, ok := slices.BinarySearch(sc.scopes, sn)
	return ok
}

func (sc *Scan) matchesEntity(en uint32) bool {
	if sc.entities == nil {
		sc.entities = make(map[uint32]bool)
	}
	ok, seen := sc.entities[en]
	if !seen {
		ok = sc.r.MatchesEntity(sc.x.EntityName(en))
		sc.entities[en] = ok
	}
	return ok
}

// Entities returns every entity name, sorted.
func (x *Index) Entities() []string {
	x.mu.RLock()
	names := slices.Clone(x.entityName)
	if x.vacancies { // leave out entities whose every event compaction dropped
		names = names[:0]
		for i, n := range x.entityName {
			if x.streams[i].n > 0 {
				names = append(names, n)
			}
		}
	}
	x.mu.RUnlock()
	slices.Sort(names)
	return names
}

// Scopes returns every scope name, sorted.
func (x *Index) Scopes() []string {
	x.mu.RLock()
	names := slices.Clone(x.scopeName)
	if x.vacancies {
		names = names[:0]
		for i, n := range x.scopeName {
			if x.scopes[i].n > 0 {
				names = append(names, n)
			}
		}
	}
	x.mu.RUnlock()
	slices.Sort(names)
	return names
}
