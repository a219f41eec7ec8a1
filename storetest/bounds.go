package storetest

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// positionBounds holds positions and limits taken from callers to their
// meaning at the ends of their ranges: no event lies above the largest
// global sequence (so nothing is read "after" it, whatever the region),
// and a read limit of any size returns what is there.
func (s *suite) positionBounds(t *testing.T) {
	st := s.open(t)
	c := event.MustCoordinate("bound:1", "bounds")
	var last uint64
	for i := range 3 {
		last = mustAppend(t, st, c, KindMoved, Moved{N: i}).Global
	}
	for _, r := range []batpak.Region{
		event.AllEvents(), event.ForEntity("bound:1"), event.ForScope("bounds"),
		event.AllEvents().WithKind(KindMoved), event.ForEntity("bound:").WithEntityPrefix("bound:"),
	} {
		require.Empty(t, globals(collect(t, st.QueryAfter(bg, r, math.MaxUint64))), "QueryAfter(%+v, MaxUint64)", r)
		require.Empty(t, globals(collect(t, st.QueryAfter(bg, r, last))), "QueryAfter(%+v, last)", r)
		require.Equal(t, []uint64{last}, globals(collect(t, st.QueryAfter(bg, r, last-1))), "QueryAfter(%+v, last-1)", r)
		var seen []uint64
		err := st.ProjectionLog().Scan(bg, r, math.MaxUint64-1, math.MaxUint64, func(ev *batpak.StoredEvent) error {
			seen = append(seen, ev.Global)
			return nil
		})
		require.NoError(t, err)
		require.Empty(t, seen, "ProjectionLog().Scan(%+v) above MaxUint64-1", r)
	}

	// Any limit: huge and non-positive ones included.
	for _, max := range []int{math.MaxInt, math.MaxInt32, 0, -1, math.MinInt} {
		cur, err := st.Cursor(event.ForScope("bounds"), 0)
		require.NoError(t, err)
		evs, err := cur.NextBatch(s.waitCtx(t), max)
		require.NoError(t, err, "NextBatch(%d)", max)
		require.Len(t, evs, 3, "NextBatch(%d)", max)
		require.NoError(t, cur.Close())
	}
	dc, err := st.DurableCursor("bounds", event.ForScope("bounds"))
	require.NoError(t, err)
	evs, err := dc.NextBatch(s.waitCtx(t), math.MaxInt)
	require.NoError(t, err, "durable cursor NextBatch(MaxInt)")
	require.NotEmpty(t, evs)
	require.NoError(t, dc.Close())

	// A cursor after the largest position has nothing to deliver, however
	// long it is asked: it only ends with its context.
	cur, err := st.Cursor(event.AllEvents(), math.MaxUint64)
	require.NoError(t, err)
	defer cur.Close()
	mustAppend(t, st, c, KindMoved, Moved{N: 3})
	ctx, cancel := context.WithTimeout(bg, 200*time.Millisecond)
	defer cancel()
	evs, err = cur.NextBatch(ctx, 10)
	require.ErrorIs(t, err, context.DeadlineExceeded, "a cursor from MaxUint64 delivered %v", globals(evs))
}
