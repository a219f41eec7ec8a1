package subscriber

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
)

func cursorGlobals(evs []*event.StoredEvent) []uint64 {
	out := make([]uint64, len(evs))
	for i, ev := range evs {
		out[i] = ev.Global
	}
	return out
}

// signalWaits makes th report, on the returned channel, each time a caller
// is about to block for a wake-up.
func signalWaits(th *testHub) <-chan struct{} {
	c := make(chan struct{}, 1)
	th.onWait = func() {
		select {
		case c <- struct{}{}:
		default:
		}
	}
	return c
}

func TestCursorReadsHistoryThenBlocksUntilWoken(t *testing.T) {
	th := newTestHub(t, 16)
	th.run(t)
	th.publish(3, "p:1", "room:1", kindA)
	c, err := th.Cursor(event.AllEvents(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := hangGuard(t)
	for want := uint64(1); want <= 3; want++ {
		ev, err := c.Next(ctx)
		if err != nil || ev.Global != want {
			t.Fatalf("Next = %v, %v; want global %d", ev, err, want)
		}
	}
	blocked := signalWaits(th)
	got := make(chan *event.StoredEvent, 1)
	go func() {
		ev, err := c.Next(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- ev
	}()
	<-blocked // the cursor has looked and is about to wait
	th.publish(1, "p:1", "room:1", kindA)
	if ev := <-got; ev == nil || ev.Global != 4 || c.Position() != 4 {
		t.Fatalf("woken Next = %v, position %d; want global 4", ev, c.Position())
	}
}

func TestCursorNextEndsWithCloseAndStoreClose(t *testing.T) {
	th := newTestHub(t, 16)
	stop := th.run(t)
	ctx := hangGuard(t)
	blocked := signalWaits(th)

	c1, _ := th.Cursor(event.AllEvents(), 0)
	errc := make(chan error, 1)
	go func() { _, err := c1.Next(ctx); errc <- err }()
	<-blocked
	c1.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after cursor Close: %v, want ErrClosed", err)
	}
	if _, err := c1.Next(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Next: %v, want ErrClosed", err)
	}

	c2, _ := th.Cursor(event.AllEvents(), 0)
	defer c2.Close()
	go func() { _, err := c2.Next(ctx); errc <- err }()
	<-blocked
	stop()
	if err := <-errc; !errors.Is(err, errStore) {
		t.Fatalf("Next after store close: %v, want the store's error", err)
	}
	if _, err := th.Cursor(event.AllEvents(), 0); !errors.Is(err, errStore) {
		t.Fatalf("Cursor after store close: %v", err)
	}
}

func TestCursorNextWithEndedContextStillReturnsWhatIsVisible(t *testing.T) {
	th := newTestHub(t, 16)
	th.run(t)
	th.publish(2, "p:1", "room:1", kindA)
	c, _ := th.Cursor(event.AllEvents(), 0)
	defer c.Close()
	ctx, cancel := context.WithCancel(bg)
	cancel()
	for range 2 {
		if _, err := c.Next(ctx); err != nil {
			t.Fatalf("Next of a visible event: %v", err)
		}
	}
	if _, err := c.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next with nothing visible: %v, want context.Canceled", err)
	}
}

func TestCursorRegionAndResumeFromPosition(t *testing.T) {
	th := newTestHub(t, 16)
	th.run(t)
	for range 10 {
		th.publish(3, "p:1", "room:1", kindA)
		th.publish(1, "p:2", "room:2", kindB)
	}
	ctx := hangGuard(t)
	c, _ := th.Cursor(event.ForScope("room:2"), 0)
	first, err := c.NextBatch(ctx, 4)
	if err != nil || len(first) != 4 {
		t.Fatalf("NextBatch = %d events, %v", len(first), err)
	}
	pos := c.Position()
	c.Close()

	resumed, _ := th.Cursor(event.ForScope("room:2"), pos)
	defer resumed.Close()
	rest, err := resumed.NextBatch(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	all := append(first, rest...)
	if len(all) != 10 {
		t.Fatalf("room:2 had %d events, want 10", len(all))
	}
	for i, ev := range all {
		if want := uint64(4 * (i + 1)); ev.Global != want || ev.Coordinate.Scope() != "room:2" {
			t.Fatalf("event %d: global %d in %s, want %d in room:2", i, ev.Global, ev.Coordinate.Scope(), want)
		}
	}
}

func TestCursorReadErrorIsReturnedAndRetried(t *testing.T) {
	th := newTestHub(t, 16)
	th.run(t)
	th.publish(2, "p:1", "room:1", kindA)
	c, _ := th.Cursor(event.AllEvents(), 0)
	defer c.Close()
	th.log.fail.Store(true)
	if _, err := c.Next(bg); !errors.Is(err, errLoad) {
		t.Fatalf("Next with failing reads: %v", err)
	}
	th.log.fail.Store(false)
	evs, err := c.NextBatch(bg, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkRun(t, "after retry", cursorGlobals(evs), 1, 2)
}

func TestCursorsUnderConcurrentPublishersSeeEveryEventOnceInOrder(t *testing.T) {
	th := newTestHub(t, 4) // a small mailbox: overflow and backfill too
	th.run(t)
	const producers, perProducer, batch = 4, 200, 5
	const total = producers * perProducer * batch
	var pubMu sync.Mutex // commit and publish in one step, as the fsync actor does
	ctx := hangGuard(t)

	type result struct {
		name string
		gs   []uint64
	}
	results := make(chan result, 3)
	read := func(name string, next func(c *Cursor, left int) ([]*event.StoredEvent, error)) {
		c, _ := th.Cursor(event.AllEvents(), 0)
		defer c.Close()
		var gs []uint64
		for len(gs) < total {
			evs, err := next(c, total-len(gs))
			if err != nil {
				t.Errorf("%s: %v", name, err)
				break
			}
			gs = append(gs, cursorGlobals(evs)...)
		}
		results <- result{name, gs}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		read("Next", func(c *Cursor, _ int) ([]*event.StoredEvent, error) {
			ev, err := c.Next(ctx)
			return []*event.StoredEvent{ev}, err
		})
	})
	wg.Go(func() {
		read("NextBatch(7)", func(c *Cursor, _ int) ([]*event.StoredEvent, error) { return c.NextBatch(ctx, 7) })
	})
	wg.Go(func() {
		read("All", func(c *Cursor, left int) ([]*event.StoredEvent, error) {
			var evs []*event.StoredEvent
			for ev, err := range c.All(ctx) {
				if err != nil {
					return nil, err
				}
				if evs = append(evs, ev); len(evs) == min(33, left) {
					break
				}
			}
			return evs, nil
		})
	})
	for p := range producers {
		wg.Go(func() {
			for range perProducer {
				pubMu.Lock()
				th.publish(batch, "p:"+string(rune('a'+p)), "room:1", kindA)
				pubMu.Unlock()
			}
		})
	}
	wg.Wait()
	close(results)
	for r := range results {
		checkRun(t, r.name, r.gs[:min(len(r.gs), total)], 1, total)
	}
}

func TestCursorNextBatchKeepsAtomicBatchesWhole(t *testing.T) {
	th := newTestHub(t, 16)
	th.run(t)
	f := th.log
	f.commit(3, "a", "room:1", kindA)      // 1 2 3
	f.commitBatch("a", "b", "a", "b", "a") // 4 … 8
	f.commit(1, "a", "room:1", kindA)      // 9
	f.commitBatch("b", "b", "b", "b")      // 10 … 13
	f.commit(1, "b", "room:1", kindA)      // 14
	read := func(region event.Region, max int) [][]uint64 {
		c, err := th.Cursor(region, 0)
		require.NoError(t, err)
		defer c.Close()
		var out [][]uint64
		for c.Position() < 14 {
			ended, cancel := context.WithCancel(bg)
			cancel() // what is visible comes at once; nothing more is awaited
			evs, err := c.NextBatch(ended, max)
			if errors.Is(err, context.Canceled) {
				break
			}
			require.NoError(t, err)
			out = append(out, cursorGlobals(evs))
		}
		return out
	}
	// A call stops before a batch it cannot hold, and a batch larger than
	// the limit comes whole, alone.
	assert.Equal(t, [][]uint64{{1, 2}, {3}, {4, 5, 6, 7, 8}, {9}, {10, 11, 12, 13}, {14}}, read(event.AllEvents(), 2))
	assert.Equal(t, [][]uint64{{1, 2, 3}, {4, 5, 6, 7, 8, 9}, {10, 11, 12, 13, 14}}, read(event.AllEvents(), 6))
	// A region's part of a batch comes together, even where the batch's
	// other events lie outside the region.
	assert.Equal(t, [][]uint64{{5, 7}, {10, 11, 12, 13}, {14}}, read(event.ForEntity("b"), 1))
	assert.Equal(t, [][]uint64{{1}, {2}, {3}, {4, 6, 8}, {9}}, read(event.ForEntity("a"), 1))
}
