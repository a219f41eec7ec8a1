package event

import (
	"math"
	"slices"
	"strings"
)

// Region selects events by entity (exact or prefix), scope (exact, prefix,
// or a set of both), kind and per-entity sequence range. It is the one
// predicate used by queries, subscriptions, cursors and projections. The
// zero Region (or AllEvents()) matches every event; the With… methods
// return narrowed copies. Regions are values: copy and compare them freely
// (two regions built from the same scope set by separate ForScopes calls
// compare unequal with ==, but match the same events).
type Region struct {
	Entity       string // exact entity, or a prefix when EntityPrefix is set; "" matches any
	EntityPrefix bool
	// Scope is one exact scope, or a prefix when ScopePrefix is set; ""
	// matches any. A region made by ForScopes or WithScopes has a set of
	// scopes instead, and Scope "" (see Scopes).
	Scope       string
	ScopePrefix bool
	Kinds       KindFilter
	MinSequence uint64 // per-entity sequence range, inclusive
	MaxSequence uint64 // 0 means no upper bound

	// set is the scope rule of a region of two or more scope terms (nil
	// otherwise, and then Scope and ScopePrefix say it). It is never
	// changed once made, so copies of a Region share it.
	set *scopeSet
}

// scopeSet is a set of exact scopes and scope prefixes, normalised: sorted,
// without duplicates, without an exact scope a prefix covers, and without
// a prefix a shorter one covers, so no scope matches two of its terms.
type scopeSet struct {
	names    []string            // exact scopes, sorted
	prefixes []string            // scope prefixes, sorted
	lookup   map[string]struct{} // the names, for matching a scope in one lookup
}

// AllEvents matches every event.
func AllEvents() Region { return Region{} }

// ForEntity matches one entity. A trailing '*' makes it a prefix match:
// ForEntity("player:*") matches every entity starting with "player:".
func ForEntity(entity string) Region { return Region{}.WithEntity(entity) }

// ForScope matches one scope. A trailing '*' makes it a prefix match, as
// for entities: ForScope("zone:1/*") matches every scope starting with
// "zone:1/". (To match a scope that itself ends in '*', set Region.Scope.)
func ForScope(scope string) Region { return Region{}.WithScope(scope) }

// ForScopes matches any of several scopes, each exact or, with a trailing
// '*', a prefix: ForScopes("zone:1/0,0", "zone:1/0,1", "zone:9/*"). It is
// how a region covers an area, such as the chunks around a player. Empty
// terms are ignored, so ForScopes() with no term matches no event; "*"
// matches every scope. Queries, cursors and projections read only the
// listed scopes' events from the index, and subscriptions match a
// notification against the set with one lookup.
func ForScopes(scopes ...string) Region { return Region{}.WithScopes(scopes...) }

// WithEntity narrows r to one entity; a trailing '*' makes it a prefix.
func (r Region) WithEntity(entity string) Region {
	if p, ok := strings.CutSuffix(entity, "*"); ok {
		return r.WithEntityPrefix(p)
	}
	r.Entity, r.EntityPrefix = entity, false
	return r
}

// WithEntityPrefix narrows r to entities starting with prefix.
func (r Region) WithEntityPrefix(prefix string) Region {
	r.Entity, r.EntityPrefix = prefix, true
	return r
}

// WithScope narrows r to one scope, replacing any scope rule r had; a
// trailing '*' makes it a prefix.
func (r Region) WithScope(scope string) Region {
	if p, ok := strings.CutSuffix(scope, "*"); ok {
		return r.WithScopePrefix(p)
	}
	r.Scope, r.ScopePrefix, r.set = scope, false, nil
	return r
}

// WithScopePrefix narrows r to scopes starting with prefix, replacing any
// scope rule r had. The prefix "" matches every scope.
func (r Region) WithScopePrefix(prefix string) Region {
	r.Scope, r.ScopePrefix, r.set = prefix, prefix != "", nil
	return r
}

// WithScopes narrows r to any of scopes (see ForScopes), replacing any
// scope rule r had. One term makes the same region as WithScope.
func (r Region) WithScopes(scopes ...string) Region {
	s := newScopeSet(scopes)
	if s == nil {
		return r.WithScopePrefix("") // "*" among the terms: every scope
	}
	switch {
	case len(s.names) == 1 && len(s.prefixes) == 0:
		return r.WithScope(s.names[0])
	case len(s.names) == 0 && len(s.prefixes) == 1:
		return r.WithScopePrefix(s.prefixes[0])
	}
	r.Scope, r.ScopePrefix, r.set = "", false, s
	return r
}

// newScopeSet normalises terms; nil means a term matches every scope.
func newScopeSet(terms []string) *scopeSet {
	s := &scopeSet{}
	for _, t := range terms {
		if p, ok := strings.CutSuffix(t, "*"); ok {
			if p == "" {
				return nil
			}
			s.prefixes = append(s.prefixes, p)
		} else if t != "" {
			s.names = append(s.names, t)
		}
	}
	s.prefixes = sortedUnique(s.prefixes)
	// After sorting, a prefix that covers another comes right before the
	// first prefix it covers.
	k := 0
	for _, p := range s.prefixes {
		if k > 0 && strings.HasPrefix(p, s.prefixes[k-1]) {
			continue
		}
		s.prefixes[k] = p
		k++
	}
	s.prefixes = s.prefixes[:k]
	s.names = sortedUnique(s.names)
	k = 0
	for _, n := range s.names {
		if !s.prefixed(n) {
			s.names[k] = n
			k++
		}
	}
	s.names = s.names[:k]
	s.lookup = make(map[string]struct{}, len(s.names))
	for _, n := range s.names {
		s.lookup[n] = struct{}{}
	}
	return s
}

func sortedUnique(ss []string) []string {
	if len(ss) < 2 {
		return ss
	}
	slices.Sort(ss)
	k := 1
	for _, v := range ss[1:] {
		if v != ss[k-1] {
			ss[k] = v
			k++
		}
	}
	return ss[:k]
}

// prefixed reports whether one of the set's prefixes covers scope.
func (s *scopeSet) prefixed(scope string) bool {
	for _, p := range s.prefixes {
		if strings.HasPrefix(scope, p) {
			return true
		}
	}
	return false
}

func (s *scopeSet) matches(scope string) bool {
	if _, ok := s.lookup[scope]; ok {
		return true
	}
	return s.prefixed(scope)
}

// WithKinds narrows r to the kinds f matches.
func (r Region) WithKinds(f KindFilter) Region { r.Kinds = f; return r }

// WithKind narrows r to one kind.
func (r Region) WithKind(k EventKind) Region { r.Kinds = ExactKind(k); return r }

// WithSequence narrows r to per-entity sequences in [min, max]; max 0 means unbounded.
func (r Region) WithSequence(min, max uint64) Region {
	r.MinSequence, r.MaxSequence = min, max
	return r
}

// ExactEntity returns the entity if r names exactly one.
func (r Region) ExactEntity() (string, bool) {
	return r.Entity, r.Entity != "" && !r.EntityPrefix
}

// Scopes returns r's scope rule as exact scopes and scope prefixes, each
// sorted, with no scope matching two of them; all is true (and both nil)
// when r matches every scope. The slices are shared: do not change them.
func (r Region) Scopes() (names, prefixes []string, all bool) {
	switch {
	case r.set != nil:
		return r.set.names, r.set.prefixes, false
	case r.Scope == "":
		return nil, nil, true
	case r.ScopePrefix:
		return nil, []string{r.Scope}, false
	}
	return []string{r.Scope}, nil, false
}

// MatchesAll reports whether r selects every event.
func (r Region) MatchesAll() bool {
	return r.Entity == "" && r.Scope == "" && r.set == nil && r.Kinds.IsAny() &&
		r.MinSequence == 0 && r.MaxSequence == 0
}

// MaxSeq is the inclusive upper sequence bound.
func (r Region) MaxSeq() uint64 {
	if r.MaxSequence == 0 {
		return math.MaxUint64
	}
	return r.MaxSequence
}

// MatchesEntity reports whether the entity passes r's entity rule.
func (r Region) MatchesEntity(entity string) bool {
	switch {
	case r.Entity == "":
		return true
	case r.EntityPrefix:
		return strings.HasPrefix(entity, r.Entity)
	}
	return entity == r.Entity
}

// MatchesScope reports whether the scope passes r's scope rule: for a set,
// one map lookup and a test of each prefix.
func (r Region) MatchesScope(scope string) bool {
	switch {
	case r.set != nil:
		return r.set.matches(scope)
	case r.Scope == "":
		return true
	case r.ScopePrefix:
		return strings.HasPrefix(scope, r.Scope)
	}
	return scope == r.Scope
}

// Matches reports whether an event at coord, of kind k and per-entity
// sequence seq, is in the region.
func (r Region) Matches(coord Coordinate, k EventKind, seq uint64) bool {
	return r.MatchesEntity(coord.entity) &&
		r.MatchesScope(coord.scope) &&
		r.Kinds.Matches(k) &&
		seq >= r.MinSequence && seq <= r.MaxSeq()
}

// MatchesNotification reports whether n is in the region.
func (r Region) MatchesNotification(n Notification) bool {
	return r.Matches(n.Coordinate, n.Kind, n.Sequence)
}
