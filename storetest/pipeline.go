package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// Pipelined appends and reaction batches.

// submit: tickets of appends and batches on several entities, waited for
// after all were submitted: every receipt names its event, each entity's
// appends are stored in the order submitted, a ticket answers again, and
// concurrent waiters get the same answer.
func (s *suite) submit(t *testing.T) {
	st := s.open(t)
	ctx := s.waitCtx(t)
	type sub struct {
		ticket batpak.Ticket
		n      int // items
		entity string
	}
	var subs []sub
	for i := range 30 {
		entity := fmt.Sprintf("pipe:%d", i%3)
		c := event.MustCoordinate(entity, "pipeline")
		if i%5 == 4 {
			tk, err := st.SubmitBatch(ctx, []batpak.BatchItem{
				{Coord: c, Kind: KindMoved, Payload: Moved{N: i}},
				{Coord: c, Kind: KindSpoke, Payload: Moved{N: i}, Cause: event.CauseItem(0)},
			}, batpak.DefaultDurability)
			require.NoError(t, err, "SubmitBatch %d", i)
			subs = append(subs, sub{tk, 2, entity})
			continue
		}
		tk, err := st.Submit(ctx, c, KindMoved, Moved{N: i}, event.AppendOptions{})
		require.NoError(t, err, "Submit %d", i)
		subs = append(subs, sub{tk, 1, entity})
	}
	next := map[string]uint64{}
	for i, sb := range subs {
		rs, err := sb.ticket.WaitAll(ctx)
		require.NoError(t, err, "ticket %d", i)
		require.Len(t, rs, sb.n)
		for _, r := range rs {
			assert.Equal(t, next[sb.entity], r.Sequence, "ticket %d: %s's appends in submission order", i, sb.entity)
			next[sb.entity]++
			ev, err := st.Get(ctx, r.ID)
			require.NoError(t, err)
			sameEvent(t, fmt.Sprintf("ticket %d", i), ev, r)
		}
		if sb.n == 2 {
			assert.Equal(t, rs[0].ID, rs[1].Causation, "ticket %d: a batch's cause inside it", i)
		}
		one, err := sb.ticket.Wait(ctx)
		require.NoError(t, err)
		assert.Equal(t, rs[0], one, "Wait after WaitAll: the same first receipt")
	}
	// Concurrent waiters on one ticket.
	tk, err := st.Submit(ctx, event.MustCoordinate("pipe:x", "pipeline"), KindMoved, Moved{N: 99}, event.AppendOptions{})
	require.NoError(t, err)
	var wg sync.WaitGroup
	got := make([]batpak.Receipt, 4)
	for i := range got {
		wg.Go(func() {
			r, err := tk.Wait(ctx)
			assert.NoError(t, err)
			got[i] = r
		})
	}
	wg.Wait()
	for _, r := range got[1:] {
		assert.Equal(t, got[0], r)
	}
	// Refusals come at once, before anything is submitted.
	_, err = st.Submit(ctx, event.MustCoordinate("pipe:x", "pipeline"), event.EventKind(0), Moved{}, event.AppendOptions{})
	assert.ErrorIs(t, err, batpak.ErrInvalidKind)
	_, err = st.SubmitBatch(ctx, nil, batpak.DefaultDurability)
	assert.ErrorIs(t, err, batpak.ErrEmptyBatch)
}

// reactionBatch: AppendReactionBatch sets the correlation and causation
// on every item naming none of its own, atomically.
func (s *suite) reactionBatch(t *testing.T) {
	st := s.open(t)
	ctx := s.waitCtx(t)
	src := mustAppend(t, st, event.MustCoordinate("order:1", "shop"), KindMoved, Moved{N: 1})
	other := mustAppend(t, st, event.MustCoordinate("order:2", "shop"), KindMoved, Moved{N: 2})
	c := event.MustCoordinate("mail:1", "shop")
	rs, err := st.AppendReactionBatch(ctx, src.Correlation, src.ID, []batpak.BatchItem{
		{Coord: c, Kind: KindSpoke, Payload: Moved{N: 1}},
		{Coord: c, Kind: KindSpoke, Payload: Moved{N: 2}, Cause: event.CauseItem(0)},
		{Coord: c, Kind: KindSpoke, Payload: Moved{N: 3}, Options: event.AppendOptions{Causation: other.ID}},
	})
	require.NoError(t, err)
	require.Len(t, rs, 3)
	for _, r := range rs {
		assert.Equal(t, src.Correlation, r.Correlation)
	}
	assert.Equal(t, src.ID, rs[0].Causation)
	assert.Equal(t, rs[0].ID, rs[1].Causation)
	assert.Equal(t, other.ID, rs[2].Causation)
	assert.Equal(t, []uint64{rs[0].Global, rs[0].Global + 1, rs[0].Global + 2}, receiptGlobals(rs...), "one atomic batch")
}
