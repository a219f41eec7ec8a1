package event

import (
	"math"
	"strings"
)

// Region selects events by entity (exact or prefix), scope, kind and
// per-entity sequence range. It is the one predicate used by queries,
// subscriptions and cursors. The zero Region (or AllEvents()) matches every
// event; the With… methods return narrowed copies.
type Region struct {
	Entity       string // exact entity, or a prefix when EntityPrefix is set; "" matches any
	EntityPrefix bool
	Scope        string // exact scope; "" matches any
	Kinds        KindFilter
	MinSequence  uint64 // per-entity sequence range, inclusive
	MaxSequence  uint64 // 0 means no upper bound
}

// AllEvents matches every event.
func AllEvents() Region { return Region{} }

// ForEntity matches one entity. A trailing '*' makes it a prefix match:
// ForEntity("player:*") matches every entity starting with "player:".
func ForEntity(entity string) Region { return Region{}.WithEntity(entity) }

// ForScope matches one scope.
func ForScope(scope string) Region { return Region{Scope: scope} }

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

// WithScope narrows r to one scope.
func (r Region) WithScope(scope string) Region { r.Scope = scope; return r }

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

// Matches reports whether an event at coord, of kind k and per-entity
// sequence seq, is in the region.
func (r Region) Matches(coord Coordinate, k EventKind, seq uint64) bool {
	return r.MatchesEntity(coord.entity) &&
		(r.Scope == "" || r.Scope == coord.scope) &&
		r.Kinds.Matches(k) &&
		seq >= r.MinSequence && seq <= r.MaxSeq()
}

// MatchesNotification reports whether n is in the region.
func (r Region) MatchesNotification(n Notification) bool {
	return r.Matches(n.Coordinate, n.Kind, n.Sequence)
}
