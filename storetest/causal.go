package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// Causal reads and visibility.

// byCorrelation: a workflow's root and every event correlated with it, in
// global order, nothing else.
func (s *suite) byCorrelation(t *testing.T) {
	st := s.open(t)
	ctx := s.waitCtx(t)
	root := mustAppend(t, st, event.MustCoordinate("order:1", "shop"), KindMoved, Moved{N: 1})
	mustAppend(t, st, event.MustCoordinate("order:2", "shop"), KindMoved, Moved{N: 2}) // another workflow
	r1, err := st.AppendReaction(ctx, event.MustCoordinate("mail:1", "shop"), KindSpoke, Moved{N: 3}, root.ID, root.ID)
	require.NoError(t, err)
	rs, err := st.AppendReactionBatch(ctx, root.ID, r1.ID, []batpak.BatchItem{
		{Coord: event.MustCoordinate("stock:1", "shop"), Kind: KindSpoke, Payload: Moved{N: 4}},
	})
	require.NoError(t, err)
	got := globals(collect(t, st.ByCorrelation(ctx, root.ID)))
	assert.Equal(t, []uint64{root.Global, r1.Global, rs[0].Global}, got)
	assert.Empty(t, collect(t, st.ByCorrelation(ctx, event.NewID())), "an id no event is correlated with")
}

// walkAncestors: newest first along one entity's chain, bounded by limit,
// each event's Hash.Prev its predecessor's hash.
func (s *suite) walkAncestors(t *testing.T) {
	st := s.open(t)
	ctx := s.waitCtx(t)
	c := event.MustCoordinate("chain:1", "walk")
	var rs []batpak.Receipt
	for i := range 6 {
		rs = append(rs, mustAppend(t, st, c, KindMoved, Moved{N: i}))
		mustAppend(t, st, event.MustCoordinate("chain:2", "walk"), KindMoved, Moved{N: i}) // interleaved
	}
	walked := collect(t, st.WalkAncestors(ctx, rs[4].ID, 0))
	require.Len(t, walked, 5)
	for i, ev := range walked {
		r := rs[4-i]
		sameEvent(t, "walk", ev, r)
		if i+1 < len(walked) {
			assert.Equal(t, walked[i+1].Hash.Self, ev.Hash.Prev, "event %d links to its predecessor", ev.Sequence)
		}
	}
	assert.Equal(t, [32]byte{}, walked[4].Hash.Prev, "the first event has no predecessor")
	limited := collect(t, st.WalkAncestors(ctx, rs[5].ID, 2))
	assert.Equal(t, []uint64{rs[5].Global, rs[4].Global}, globals(limited))

	var errs []error
	for _, err := range st.WalkAncestors(ctx, rs[5].ID, -1) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], batpak.ErrInvalidOption)
	errs = errs[:0]
	for _, err := range st.WalkAncestors(ctx, event.NewID(), 0) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], batpak.ErrNotFound)
}

// waitVisible: a visible position returns at once; a position not yet
// written waits until an append makes it visible, and the event can then
// be read; a wait for a position nothing writes ends with its context.
func (s *suite) waitVisible(t *testing.T) {
	st := s.open(t)
	ctx := s.waitCtx(t)
	c := event.MustCoordinate("wv:1", "s")
	r := mustAppend(t, st, c, KindMoved, Moved{N: 1})
	require.NoError(t, st.WaitVisible(ctx, r.Global))
	require.NoError(t, st.WaitVisible(ctx, 0))

	waited := make(chan error, 1)
	go func() { waited <- st.WaitVisible(ctx, r.Global+1) }()
	r2 := mustAppend(t, st, c, KindMoved, Moved{N: 2})
	require.Equal(t, r.Global+1, r2.Global)
	require.NoError(t, <-waited)
	ev, err := st.Get(ctx, r2.ID)
	require.NoError(t, err)
	sameEvent(t, "after WaitVisible", ev, r2)

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, st.WaitVisible(short, r2.Global+1000), context.DeadlineExceeded)
}

// catchUp: a cursor's All from 0 delivers the history and then what is
// appended meanwhile by another goroutine, each event once, in order, with
// nothing lost at the switch.
func (s *suite) catchUp(t *testing.T) {
	st := s.open(t)
	ctx := s.waitCtx(t)
	c := event.MustCoordinate("cu:1", "s")
	var want []uint64
	for i := range 20 {
		want = append(want, mustAppend(t, st, c, KindMoved, Moved{N: i}).Global)
	}
	cur, err := st.Cursor(event.ForScope("s"), 0)
	require.NoError(t, err)
	defer cur.Close()
	live := make(chan []uint64, 1)
	go func() {
		var gs []uint64
		for i := range 20 {
			r, err := st.Append(bg, c, KindSpoke, Moved{N: 100 + i})
			if err != nil {
				break
			}
			gs = append(gs, r.Global)
		}
		live <- gs
	}()
	var got []uint64
	for ev, err := range cur.All(ctx) {
		require.NoError(t, err)
		if got = append(got, ev.Global); len(got) == 40 {
			break
		}
	}
	assert.Equal(t, append(want, <-live...), got)
	assert.Equal(t, got[39], cur.Position())
}
