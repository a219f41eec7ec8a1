package jetstream

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// ByCorrelation yields the events of one workflow in global order: the
// event whose id is id, if it is its own correlation (the workflow's
// root), and every event appended with Correlation id. The stream keeps no
// index of correlations, so this reads every event stored after the root
// (or every event, if id is no event's): a tool for inspection, not a
// hot path.
func (s *Store) ByCorrelation(ctx context.Context, id batpak.ID) iter.Seq2[*batpak.StoredEvent, error] {
	return func(yield func(*batpak.StoredEvent, error) bool) {
		var after uint64
		root, err := s.Get(ctx, id)
		switch {
		case err == nil:
			after = root.Global - 1 // a reaction is stored after what it reacts to
		case !errors.Is(err, batpak.ErrNotFound):
			yield(nil, err)
			return
		}
		for ev, err := range s.QueryAfter(ctx, event.AllEvents(), after) {
			if err != nil {
				yield(nil, err)
				return
			}
			if ev.Correlation == id && !yield(ev, nil) {
				return
			}
		}
	}
}

// WalkAncestors yields the event id and then its entity's earlier events,
// newest first, at most limit (0: no bound; below 0:
// batpak.ErrInvalidOption). The stream cannot be read backwards by
// subject, so the entity's events up to id are read forwards, each one's
// chain hash checked against its predecessor's (a break yields an error
// wrapping batpak.ErrChainBroken before any event), keeping the newest
// limit of them in memory.
func (s *Store) WalkAncestors(ctx context.Context, id batpak.ID, limit int) iter.Seq2[*batpak.StoredEvent, error] {
	return func(yield func(*batpak.StoredEvent, error) bool) {
		if limit < 0 {
			yield(nil, fmt.Errorf("%w: WalkAncestors limit %d", batpak.ErrInvalidOption, limit))
			return
		}
		ev, err := s.Get(ctx, id)
		if err != nil {
			yield(nil, err)
			return
		}
		var (
			kept  []*batpak.StoredEvent // the newest limit: a ring once full
			start int                   // the oldest's index in the full ring
		)
		err = s.each(ctx, batpak.Region{Entity: ev.Coordinate.Entity()}, 0, ev.Global, func(e *batpak.StoredEvent) error {
			if limit > 0 && len(kept) == limit {
				kept[start], start = e, (start+1)%limit
			} else {
				kept = append(kept, e)
			}
			return nil
		})
		if err != nil {
			yield(nil, err)
			return
		}
		n := len(kept)
		if n == 0 || kept[(start+n-1)%n].ID != id {
			yield(nil, fmt.Errorf("%w: event %v is not in its entity's stream", batpak.ErrCorrupt, id))
			return
		}
		for i := n - 1; i >= 0; i-- {
			if !yield(kept[(start+i)%n], nil) {
				return
			}
		}
	}
}
