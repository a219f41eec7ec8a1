package index

import "github.com/batpak-go/batpak/event"

// Names is a lock-free snapshot of the interned coordinates, for a reader
// that resolves many entries: one lock to take it rather than one per
// entry. It resolves every entry published before it was taken. Interned
// names are append-only and never change once set, so a snapshot of the
// slices stays valid while the publisher keeps interning.
type Names struct {
	coords []event.Coordinate // by entity number: the coordinate of its first event
	scopes []string           // by scope number
	// The coordinate last built for an entity seen in a scope other than
	// its first one, so a run of such events builds it once.
	otherEntity, otherScope uint32
	other                   event.Coordinate
}

// Names takes a snapshot of the interned names.
func (x *Index) Names() Names {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return Names{coords: x.entityCoord, scopes: x.scopeName}
}

// Coordinate returns the coordinate of an entry published before n was
// taken, as (*Index).Coordinate does.
func (n *Names) Coordinate(e *Entry) event.Coordinate {
	c := n.coords[e.Entity]
	scope := n.scopes[e.Scope]
	if c.Scope() == scope {
		return c
	}
	if !n.other.IsZero() && n.otherEntity == e.Entity && n.otherScope == e.Scope {
		return n.other
	}
	c, _ = event.NewCoordinate(c.Entity(), scope) // names in the index are valid
	n.otherEntity, n.otherScope, n.other = e.Entity, e.Scope, c
	return c
}

// Previous returns the entry before e in e's entity stream: the event with
// sequence e.Sequence-1, if the index holds it. It resolves the entity by
// e's number rather than by name.
func (x *Index) Previous(e Entry) (Entry, bool) {
	if e.Sequence == 0 {
		return Entry{}, false
	}
	x.mu.RLock()
	var s snapshot
	if int(e.Entity) < len(x.streams) {
		s = snapshot{entries: x.entries.view(), pos: x.streams[e.Entity].view()}
	}
	x.mu.RUnlock()
	seq := e.Sequence - 1
	if i := s.searchSeq(seq); i < s.len() && s.at(i).Sequence == seq {
		return *s.at(i), true
	}
	return Entry{}, false
}
