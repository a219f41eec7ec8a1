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
	// gap or whose chain hash does not follow (batpak.ErrChainBroken), an
	// event id stored twice, or entity links (the header Bp-Prev) that do
	// not name the events they should (batpak.ErrCorrupt; reads do not
	// trust them, so no read returns a wrong event, but entity reads fall
	// back to scans).
	Problem error
}

// Verify reads the whole stream and checks every event's frame, every
// entity's sequences (0, 1, 2… with no gap) and hash chain, and that no
// event id is stored twice. It holds a few dozen bytes per event and
// entity in memory.
func (s *Store) Verify(ctx context.Context) (VerifyReport, error) {
	type tail struct {
		next    uint64
		hash    [32]byte
		globals []uint64 // stream sequence of each event, by per-entity sequence
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
		if v := m.hdr.Get(hdrPrev); v != "" || t.next == 0 { // events written before links carry none
			if err := checkLinks(v, ev.Global, t.next, t.globals); err != nil {
				rep.Problem = fmt.Errorf("%w: entity %q sequence %d (global %d): %v", batpak.ErrCorrupt, ent, t.next, ev.Global, err)
				return errStop
			}
		}
		t.globals = append(t.globals, ev.Global)
		t.next++
		t.hash = ev.Hash.Self
		return nil
	})
	rep.Entities = len(tails)
	return rep, err
}

// checkLinks checks the links v of the event with per-entity sequence k
// stored at own against where its entity's events are (globals).
func checkLinks(v string, own, k uint64, globals []uint64) error {
	got, err := parseLinks(v, own, k)
	if err != nil {
		return err
	}
	for i, ks := range linkSeqs(k) {
		if got[i] != globals[ks] {
			return fmt.Errorf("link to sequence %d names stream sequence %d, not %d", ks, got[i], globals[ks])
		}
	}
	return nil
}
