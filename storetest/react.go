package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// React loops: reactions appended atomically with their cause, restarts
// after a failure that retry the event, a durable loop resuming after a
// restart, and the store's Close ending loops.

// reactLoop: each source event's reactions are one batch correlated with
// and caused by it; a reactor that fails once is restarted and the same
// event tried again (at least once), in order; Close ends the loop with
// no error.
func (s *suite) reactLoop(t *testing.T) {
	st := s.open(t)
	ctx := s.waitCtx(t)
	var (
		mu    sync.Mutex
		tries = map[int]int{}
	)
	loop, err := st.ReactLoop(ctx, event.AllEvents().WithKind(KindMoved), func(_ context.Context, ev *batpak.StoredEvent) ([]batpak.BatchItem, error) {
		m, err := batpak.Decode[Moved](ev)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		tries[m.N]++
		first := tries[m.N] == 1
		mu.Unlock()
		if m.N == 2 && first {
			return nil, errors.New("transient")
		}
		c := event.MustCoordinate("receipt:1", "react")
		return []batpak.BatchItem{
			{Coord: c, Kind: KindSpoke, Payload: m},
			{Coord: c, Kind: KindOther, Payload: m, Cause: event.CauseItem(0)},
		}, nil
	}, batpak.ReactFrom(0), batpak.ReactRestart(batpak.RestartPolicy{MaxRestarts: 3}))
	require.NoError(t, err)
	var sources []batpak.Receipt
	for i := range 4 {
		sources = append(sources, mustAppend(t, st, event.MustCoordinate("order:1", "react"), KindMoved, Moved{N: i}))
	}
	// The reactions, read with a cursor (no sleeping).
	cur, err := st.Cursor(event.ForEntity("receipt:1"), 0)
	require.NoError(t, err)
	defer cur.Close()
	var reactions []*batpak.StoredEvent
	for len(reactions) < 8 {
		evs, err := cur.NextBatch(ctx, 0)
		require.NoError(t, err)
		reactions = append(reactions, evs...)
	}
	for i, src := range sources {
		a, b := reactions[2*i], reactions[2*i+1]
		assert.Equal(t, i, decodeMoved(t, a).N, "reactions in the order of their sources")
		assert.Equal(t, src.ID, a.Causation)
		assert.Equal(t, a.ID, b.Causation, "a cause inside the reaction batch")
		assert.Equal(t, src.Correlation, a.Correlation)
		assert.Equal(t, src.Correlation, b.Correlation)
		assert.Equal(t, a.Global+1, b.Global, "one atomic batch per source")
	}
	mu.Lock()
	assert.Equal(t, 2, tries[2], "the failed event was tried again")
	mu.Unlock()
	require.NoError(t, st.Close())
	<-loop.Done()
	assert.NoError(t, loop.Err(), "the store's Close ends a loop deliberately")
}

// reactLoopFails: a reactor that keeps failing ends its loop with its
// error once the restart policy gives up; the store runs on.
func (s *suite) reactLoopFails(t *testing.T) {
	st := s.open(t)
	ctx := s.waitCtx(t)
	bad := errors.New("cannot react")
	loop, err := st.ReactLoop(ctx, event.AllEvents(), func(context.Context, *batpak.StoredEvent) ([]batpak.BatchItem, error) {
		return nil, bad
	}, batpak.ReactRestart(batpak.RestartPolicy{MaxRestarts: 1}))
	require.NoError(t, err)
	mustAppend(t, st, event.MustCoordinate("x:1", "s"), KindMoved, Moved{})
	select {
	case <-loop.Done():
	case <-ctx.Done():
		t.Fatal("the failing loop did not end")
	}
	assert.ErrorIs(t, loop.Err(), bad)
	mustAppend(t, st, event.MustCoordinate("x:1", "s"), KindMoved, Moved{}) // the store runs on
	_, err = st.ReactLoop(ctx, event.AllEvents(), nil)
	assert.ErrorIs(t, err, batpak.ErrInvalidOption)
}

// reactLoopDurable: a durable loop acknowledges what it handled; a loop of
// the same name started after a restart (WithReopen) goes on after it.
func (s *suite) reactLoopDurable(t *testing.T) {
	st := s.open(t)
	ctx := s.waitCtx(t)
	seen := make(chan uint64, 64)
	react := func(_ context.Context, ev *batpak.StoredEvent) ([]batpak.BatchItem, error) {
		seen <- ev.Global
		return nil, nil
	}
	c := event.MustCoordinate("d:1", "durable")
	var want []uint64
	for i := range 3 {
		want = append(want, mustAppend(t, st, c, KindMoved, Moved{N: i}).Global)
	}
	loop, err := st.ReactLoop(ctx, event.ForScope("durable"), react, batpak.ReactDurable("react-mailer"))
	require.NoError(t, err)
	for _, g := range want {
		assert.Equal(t, g, <-seen)
	}
	require.NoError(t, loop.Stop(ctx))
	assert.Equal(t, want[2], loop.Position())
	if s.cfg.reopen != nil {
		st = s.cfg.reopen(t, st)
	}
	next := mustAppend(t, st, c, KindMoved, Moved{N: 3})
	loop, err = st.ReactLoop(ctx, event.ForScope("durable"), react, batpak.ReactDurable("react-mailer"))
	require.NoError(t, err)
	assert.Equal(t, next.Global, <-seen, "the loop resumes after what it acknowledged")
	require.NoError(t, loop.Stop(ctx))
}
