package batpak_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

func TestReactLoopAppendsReactionsAndRestartsAfterAPanic(t *testing.T) {
	s := subOpen(t, t.TempDir())
	ctx := subGuard(t)
	var panicked atomic.Bool
	loop, err := s.ReactLoop(ctx, event.AllEvents().WithKind(subKind), func(ctx context.Context, ev *batpak.StoredEvent) ([]batpak.BatchItem, error) {
		it, err := batpak.Decode[subItem](ev)
		if err != nil {
			return nil, err
		}
		if it.I == 2 && panicked.CompareAndSwap(false, true) {
			panic("reactor bug")
		}
		return []batpak.BatchItem{{Coord: ev.Coordinate, Kind: subKindDone, Payload: it}}, nil
	}, batpak.ReactRestart(batpak.RestartPolicy{MaxRestarts: 3}))
	if err != nil {
		t.Fatal(err)
	}
	var sources []batpak.Receipt
	for i := range 5 {
		r, err := s.Append(ctx, event.MustCoordinate("order:1", "shop"), subKind, subItem{I: i})
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, r)
	}
	// Wait for the five reactions with a cursor, not a sleep.
	c, _ := s.Cursor(event.AllEvents().WithKind(subKindDone), 0)
	defer c.Close()
	for i := range 5 {
		ev, err := c.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Causation != sources[i].ID || ev.Correlation != sources[i].Correlation {
			t.Fatalf("reaction %d: causation %v correlation %v; want %v, %v", i, ev.Causation, ev.Correlation, sources[i].ID, sources[i].Correlation)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	<-loop.Done() // Close stopped it
	// Close may cancel the last reaction's wait for its receipt after the
	// write: the position then stays on the event before (at-least-once).
	if pos := loop.Position(); loop.Err() != nil || (pos != sources[4].Global && pos != sources[3].Global) {
		t.Fatalf("loop: Err %v, position %d; want nil and %d or %d", loop.Err(), pos, sources[3].Global, sources[4].Global)
	}
	if !panicked.Load() {
		t.Fatal("the reactor never panicked")
	}
}

func TestReactLoopThatKeepsFailingEndsWithoutStoppingTheStore(t *testing.T) {
	s := subOpen(t, t.TempDir())
	ctx := subGuard(t)
	bad := errors.New("cannot react")
	loop, err := s.ReactLoop(ctx, event.AllEvents(), func(context.Context, *batpak.StoredEvent) ([]batpak.BatchItem, error) {
		return nil, bad
	}, batpak.ReactRestart(batpak.RestartPolicy{MaxRestarts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, event.MustCoordinate("x", "y"), subKind, 1); err != nil {
		t.Fatal(err)
	}
	<-loop.Done()
	if !errors.Is(loop.Err(), bad) {
		t.Fatalf("loop Err %v, want the reactor's error", loop.Err())
	}
	if _, err := s.Append(ctx, event.MustCoordinate("x", "y"), subKind, 2); err != nil {
		t.Fatalf("the store stopped with the loop: %v", err)
	}
}

func TestDurableReactLoopResumesAfterReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := subGuard(t)
	seen := make(chan uint64, 100)
	react := func(_ context.Context, ev *batpak.StoredEvent) ([]batpak.BatchItem, error) {
		seen <- ev.Global
		return nil, nil
	}
	s := subOpen(t, dir)
	if _, err := s.ReactLoop(ctx, event.AllEvents(), react, batpak.ReactDurable("mailer"), batpak.ReactFrom(0)); err != nil {
		t.Fatal(err)
	}
	subAppendPipelined(t, ctx, s, 5)
	for range 5 {
		<-seen
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = subOpen(t, dir)
	if _, err := s.ReactLoop(ctx, event.AllEvents(), react, batpak.ReactDurable("mailer")); err != nil {
		t.Fatal(err)
	}
	subAppendPipelined(t, ctx, s, 1)
	if g := <-seen; g != 6 {
		t.Fatalf("after reopen the loop reacted to %d first, want 6", g)
	}
}
