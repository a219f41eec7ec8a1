package react

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/supervisor"
)

var (
	kindA    = event.MustCustom(0x1, 0x001)
	kindDone = event.MustCustom(0x1, 0x002)
)

// guard bounds a test's waits: a hang fails the test instead of the run.
func guard(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newLoops(t *testing.T, m *memStore, p supervisor.Policy) *Loops {
	ls := NewLoops(m.backend(), Options{Policy: p, Closed: errFakeClosed})
	t.Cleanup(func() { _ = ls.Stop() })
	return ls
}

func TestLoopReactsToEveryEventOnceInOrderAndRetriesAfterAPanicOrAnError(t *testing.T) {
	ctx := guard(t)
	m := newMemStore()
	ls := newLoops(t, m, supervisor.Bounded{MaxRestarts: 5})
	var (
		mu      sync.Mutex
		handled []uint64
		tries   = map[uint64]int{}
	)
	all := make(chan struct{})
	l, err := ls.Start(ctx, event.AllEvents().WithKind(kindA), func(_ context.Context, ev *event.StoredEvent) ([]event.BatchItem, error) {
		mu.Lock()
		defer mu.Unlock()
		tries[ev.Global]++
		if ev.Global == 3 && tries[3] == 1 {
			panic("reactor bug")
		}
		if ev.Global == 5 && tries[5] == 1 {
			return nil, errors.New("transient")
		}
		handled = append(handled, ev.Global)
		if len(handled) == 10 {
			close(all)
		}
		return nil, nil
	}, From(0))
	require.NoError(t, err)
	m.appendN(10, kindA)
	select {
	case <-all:
	case <-ctx.Done():
		t.Fatal("the loop did not handle ten events")
	}
	require.NoError(t, l.Stop(ctx))
	assert.NoError(t, l.Err())
	assert.Equal(t, uint64(10), l.Position())
	assert.Equal(t, 2, ls.sup.Restarts(l.Name()))
	assert.Equal(t, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, handled)
	assert.Equal(t, "react-1", l.Name())
}

func TestLoopAppendsEachEventsReactionsAsOneBatchCorrelatedAndCausedByIt(t *testing.T) {
	ctx := guard(t)
	m := newMemStore()
	ls := newLoops(t, m, supervisor.Never())
	other := event.NewID()
	l, err := ls.Start(ctx, event.AllEvents().WithKind(kindA), func(_ context.Context, ev *event.StoredEvent) ([]event.BatchItem, error) {
		return []event.BatchItem{
			{Coord: ev.Coordinate, Kind: kindDone},
			{Coord: ev.Coordinate, Kind: kindDone, Cause: event.CauseItem(0)},
			{Coord: ev.Coordinate, Kind: kindDone, Options: event.AppendOptions{Causation: other}},
		}, nil
	})
	require.NoError(t, err)
	m.appendN(1, kindA)
	select {
	case <-m.batchc:
	case <-ctx.Done():
		t.Fatal("no reaction")
	}
	require.NoError(t, l.Stop(ctx))
	src := m.events[0]
	require.Len(t, m.batches, 1, "one atomic batch per event")
	b := m.batches[0]
	require.Len(t, b, 3)
	for _, it := range b {
		assert.Equal(t, src.Correlation, it.Options.Correlation)
	}
	assert.Equal(t, src.ID, b[0].Options.Causation, "no cause of its own: caused by the event")
	assert.True(t, b[1].Options.Causation.IsZero(), "a cause inside the batch is kept")
	assert.Equal(t, event.CauseItem(0), b[1].Cause)
	assert.Equal(t, other, b[2].Options.Causation, "an explicit causation is kept")
}

func TestLoopPastItsBudgetEndsWithTheCauseAndTheStoreRunsOn(t *testing.T) {
	ctx := guard(t)
	m := newMemStore()
	ls := newLoops(t, m, supervisor.Once())
	bad := errors.New("always fails")
	l, err := ls.Start(ctx, event.AllEvents(), func(context.Context, *event.StoredEvent) ([]event.BatchItem, error) {
		return nil, bad
	})
	require.NoError(t, err)
	m.appendN(1, kindA)
	<-l.Done()
	assert.ErrorIs(t, l.Err(), bad)
	l2, err := ls.Start(ctx, event.AllEvents(), func(context.Context, *event.StoredEvent) ([]event.BatchItem, error) { return nil, nil })
	require.NoError(t, err, "another loop starts after one failed")
	require.NoError(t, l2.Stop(ctx))
}

func TestLoopEndsDeliberatelyWithItsContextAndTheStoresCloseButNotItsFailure(t *testing.T) {
	ctx := guard(t)
	noop := func(context.Context, *event.StoredEvent) ([]event.BatchItem, error) { return nil, nil }

	m := newMemStore()
	ls := newLoops(t, m, supervisor.Bounded{MaxRestarts: 3})
	lctx, cancel := context.WithCancel(ctx)
	byCtx, err := ls.Start(lctx, event.AllEvents(), noop)
	require.NoError(t, err)
	byClose, err := ls.Start(ctx, event.AllEvents(), noop)
	require.NoError(t, err)
	cancel()
	<-byCtx.Done()
	m.stop(errFakeClosed)
	<-byClose.Done()
	assert.NoError(t, byCtx.Err())
	assert.NoError(t, byClose.Err())

	failed := newMemStore()
	fls := newLoops(t, failed, supervisor.Bounded{MaxRestarts: 3})
	byFailure, err := fls.Start(ctx, event.AllEvents(), noop)
	require.NoError(t, err)
	failed.stop(errFakeFailed)
	<-byFailure.Done()
	assert.ErrorIs(t, byFailure.Err(), errFakeFailed)
	assert.Zero(t, fls.sup.Restarts(byFailure.Name()), "a store's failure is not restarted")
}

func TestDurableLoopStartsAfterItsAckAndAcknowledgesWhatItHandled(t *testing.T) {
	ctx := guard(t)
	m := newMemStore()
	m.appendN(3, kindA)
	m.acked["mailer"] = 2
	ls := newLoops(t, m, supervisor.Never())
	seen := make(chan uint64, 16)
	react := func(_ context.Context, ev *event.StoredEvent) ([]event.BatchItem, error) {
		seen <- ev.Global
		return nil, nil
	}
	l, err := ls.Start(ctx, event.AllEvents(), react, Durable("mailer"))
	require.NoError(t, err)
	assert.Equal(t, "react-1:mailer", l.Name())
	assert.Equal(t, uint64(3), <-seen, "resumes after the acknowledged position")
	m.appendN(4, kindA)
	for want := uint64(4); want <= 7; want++ {
		assert.Equal(t, want, <-seen)
	}
	require.NoError(t, l.Stop(ctx))
	assert.Equal(t, uint64(7), m.acked["mailer"])
}

func TestStartRefusesBadArgumentsAndAfterStop(t *testing.T) {
	ctx := guard(t)
	m := newMemStore()
	m.appendN(2, kindA)
	ls := NewLoops(m.backend(), Options{Closed: errFakeClosed})
	noop := func(context.Context, *event.StoredEvent) ([]event.BatchItem, error) { return nil, nil }

	_, err := ls.Start(ctx, event.AllEvents(), nil)
	assert.ErrorIs(t, err, event.ErrInvalidOption)
	_, err = ls.Start(ctx, event.AllEvents(), noop, Restart(supervisor.Bounded{MaxRestarts: -1}))
	assert.ErrorIs(t, err, event.ErrInvalidOption)
	done, cancel := context.WithCancel(ctx)
	cancel()
	_, err = ls.Start(done, event.AllEvents(), noop)
	assert.ErrorIs(t, err, context.Canceled)

	l, err := ls.Start(ctx, event.AllEvents(), noop)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), l.Position(), "without From a loop starts at the head")
	require.NoError(t, ls.Stop())
	<-l.Done()
	assert.NoError(t, l.Err())
	_, err = ls.Start(ctx, event.AllEvents(), noop)
	assert.ErrorIs(t, err, errFakeClosed)
}
