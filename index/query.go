package index

import (
	"iter"
	"slices"

	"github.com/batpak-go/batpak/event"
)

// Query yields the entries matching r with Global > after, in global order,
// from a snapshot taken when iteration starts. It picks the narrowest list:
// the entity's stream for an exact entity, else the scope's list, else the
// kind's list for an exact kind, else every entry.
func (x *Index) Query(r event.Region, after uint64) iter.Seq[Entry] {
	return func(yield func(Entry) bool) {
		if name, ok := r.ExactEntity(); ok {
			x.queryStream(name, r, after, yield)
			return
		}
		var s snapshot
		switch k, exact := r.Kinds.Exact(); {
		case r.Scope != "":
			s = x.snapshotScope(r.Scope)
		case exact:
			s = x.snapshotKind(k)
		default:
			s = x.snapshotAll()
		}
		x.filter(s, r, after, yield)
	}
}

func (x *Index) queryStream(entity string, r event.Region, after uint64, yield func(Entry) bool) {
	s := x.snapshotStream(entity)
	start := s.searchSeq(r.MinSequence)
	if after > 0 {
		start = max(start, s.searchGlobal(after+1))
	}
	maxSeq := r.MaxSeq()
	scope, any := x.scopeFilter(r.Scope)
	for i := start; i < s.len(); i++ {
		e := s.at(i)
		if e.Sequence > maxSeq {
			return
		}
		if (any || e.Scope == scope) && r.Kinds.Matches(e.Kind) && !yield(*e) {
			return
		}
	}
}

// scopeFilter resolves a scope name to its number; any is true for "".
func (x *Index) scopeFilter(scope string) (n uint32, any bool) {
	if scope == "" {
		return 0, true
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	n, ok := x.scopeNum[scope]
	if !ok {
		return ^uint32(0), false // matches nothing
	}
	return n, false
}

func (x *Index) filter(s snapshot, r event.Region, after uint64, yield func(Entry) bool) {
	start := 0
	if after > 0 {
		start = s.searchGlobal(after + 1)
	}
	scope, anyScope := x.scopeFilter(r.Scope)
	var entities map[uint32]bool // for entity prefixes: resolved once per entity number
	checkEntity := r.Entity != ""
	maxSeq := r.MaxSeq()
	for i := start; i < s.len(); i++ {
		e := s.at(i)
		if (!anyScope && e.Scope != scope) || !r.Kinds.Matches(e.Kind) ||
			e.Sequence < r.MinSequence || e.Sequence > maxSeq {
			continue
		}
		if checkEntity {
			if entities == nil {
				entities = make(map[uint32]bool)
			}
			ok, seen := entities[e.Entity]
			if !seen {
				ok = r.MatchesEntity(x.EntityName(e.Entity))
				entities[e.Entity] = ok
			}
			if !ok {
				continue
			}
		}
		if !yield(*e) {
			return
		}
	}
}

// Entities returns every entity name, sorted.
func (x *Index) Entities() []string {
	x.mu.RLock()
	names := slices.Clone(x.entityName)
	x.mu.RUnlock()
	slices.Sort(names)
	return names
}

// Scopes returns every scope name, sorted.
func (x *Index) Scopes() []string {
	x.mu.RLock()
	names := slices.Clone(x.scopeName)
	x.mu.RUnlock()
	slices.Sort(names)
	return names
}
