package batpak_test

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// Positions, sequences and limits taken from callers, at the ends of their
// ranges. (The backend-neutral cases are storetest's PositionBounds.)

func TestReadsAfterTheLargestPositionFindNothing(t *testing.T) {
	s := openStore(t, t.TempDir())
	a := coord(t, "bound:1", "bounds")
	for i := range 3 {
		_, err := s.Append(bg, a, kindMoved, payload{N: i})
		require.NoError(t, err)
	}
	for _, r := range []batpak.Region{
		event.AllEvents(), event.ForEntity("bound:1"), event.ForScope("bounds"),
		event.AllEvents().WithKind(kindMoved), event.ForEntity("bound:").WithEntityPrefix("bound:"),
	} {
		require.Empty(t, globalsOf(collect(t, s.QueryAfter(bg, r, math.MaxUint64))), "QueryAfter(%+v, MaxUint64)", r)
	}
	// A cursor, a catch-up and a react loop from the largest position have
	// nothing to deliver: with a context already ended, a cursor returns
	// what is visible at once, and there is nothing.
	ended, cancel := context.WithCancel(bg)
	cancel()
	cur, err := s.Cursor(event.AllEvents(), math.MaxUint64)
	require.NoError(t, err)
	defer cur.Close()
	_, err = cur.NextBatch(ended, math.MaxInt)
	require.ErrorIs(t, err, context.Canceled)
	for ev, err := range subCatchUp(s, ended, event.AllEvents(), math.MaxUint64) {
		require.Nil(t, ev)
		require.ErrorIs(t, err, context.Canceled)
	}
	// A cursor from 0 with the largest limit returns everything visible.
	all, err := s.Cursor(event.AllEvents(), 0)
	require.NoError(t, err)
	defer all.Close()
	evs, err := all.NextBatch(ended, math.MaxInt)
	require.NoError(t, err)
	require.Len(t, evs, 3)
}

func TestWalkAncestorsRefusesANegativeLimit(t *testing.T) {
	s := openStore(t, t.TempDir())
	r, err := s.Append(bg, coord(t, "bound:1", "bounds"), kindMoved, payload{})
	require.NoError(t, err)
	n := 0
	for ev, err := range s.WalkAncestors(bg, r.ID, -1) {
		n++
		require.Nil(t, ev)
		require.ErrorIs(t, err, batpak.ErrInvalidOption)
	}
	require.Equal(t, 1, n, "a negative limit yields one error")
}

// globalsOf lists the events' global sequences.
func globalsOf(evs []*batpak.StoredEvent) []uint64 {
	out := make([]uint64, 0, len(evs))
	for _, ev := range evs {
		out = append(out, ev.Global)
	}
	return out
}
