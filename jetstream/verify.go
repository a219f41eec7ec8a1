package jetstream

import (
	"context"
	"fmt"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/segment"
)

// VerifyReport is what Verify found.
type VerifyReport struct {
	Events   int    // events read
	Entities int    // distinct entities
	Last     uint64 // the last global sequence read
	// Problem is the first problem found, nil if none: a record that does
	// not decode (batpak.ErrCorrupt), or an entity whose sequences have a
	// gap or whose chain hash does not follow (batpak.ErrChainBroken), or an
	// event id stored twice.
	Problem error
}

// Verify reads the whole stream and checks every event's frame, every
// entity's sequences (0, 1, 2… with no gap) and hash chain, and that no
// event id is stored twice. It holds a few dozen bytes per event and
// entity in memory.
func (s *Store) Verify(ctx context.Context) (VerifyReport, error) {
	type tail struct {
		next uint64
		hash [32]byte
	}
	var rep VerifyReport
	tails := map[string]*tail{}
	ids := map[event.ID]uint64{}
	err := s.scan(ctx, s.subj.all(), 1, 0, nil, func(m rawMsg) error {
		d, err := decode(m.seq, m.data)
		if err != nil {
			rep.Problem = err
			return errStop
		}
		ev := d.ev
		rep.Events++
		rep.Last = ev.Global
		if prev, dup := ids[ev.ID]; dup {
			rep.Problem = fmt.Errorf("%w: event %v stored at %d and %d", batpak.ErrCorrupt, ev.ID, prev, ev.Global)
			return errStop
		}
		ids[ev.ID] = ev.Global
		ent := ev.Coordinate.Entity()
		t := tails[ent]
		if t == nil {
			t = &tail{}
			tails[ent] = t
		}
		if ev.Sequence != t.next {
			rep.Problem = fmt.Errorf("%w: entity %q has sequence %d at global %d, want %d",
				batpak.ErrChainBroken, ent, ev.Sequence, ev.Global, t.next)
			return errStop
		}
		if !segment.VerifyHash(d.body, t.hash) {
			rep.Problem = &chainError{entity: ent, seq: ev.Sequence, global: ev.Global}
			return errStop
		}
		t.next++
		t.hash = ev.Hash.Self
		return nil
	})
	rep.Entities = len(tails)
	return rep, err
}
