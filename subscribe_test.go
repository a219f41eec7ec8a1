package batpak_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/vfs"
)

// Tests of subscriptions, cursors, catch-up, durable cursors and react
// loops through the facade. Helpers carry a sub prefix.

var (
	subKind     = event.MustCustom(0x3, 0x001)
	subKindDone = event.MustCustom(0x3, 0x002)
	subQuiet    = batpak.WithLogger(slog.New(slog.DiscardHandler))
)

// subItem is the payload of the tests' events: which producer, which
// batch, and the item's place in it.
type subItem struct {
	P, B, I, K int
}

func subOpen(t testing.TB, dir string, opts ...batpak.Option) *batpak.Store {
	t.Helper()
	s, err := batpak.Open(dir, append([]batpak.Option{subQuiet}, opts...)...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// subGuard bounds a test that would hang on a lost wake-up or a blocked
// writer. It is a deadline for failure, never a timing assertion.
func subGuard(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// subAppendPipelined appends n events with pipelined submission and waits
// for every acknowledgement.
func subAppendPipelined(t testing.TB, ctx context.Context, s *batpak.Store, n int) {
	t.Helper()
	tickets := make([]batpak.Ticket, n)
	for i := range tickets {
		c := event.MustCoordinate(fmt.Sprintf("player:%d", i%100), fmt.Sprintf("room:%d", i%10))
		tk, err := s.Submit(ctx, c, subKind, subItem{I: i}, batpak.AppendOptions{})
		if err != nil {
			t.Fatalf("Submit %d: %v", i, err)
		}
		tickets[i] = tk
	}
	for i, tk := range tickets {
		if _, err := tk.Wait(ctx); err != nil {
			t.Fatalf("Wait %d: %v", i, err)
		}
	}
}

// subCheckRun fails unless gs is exactly 1..n: no gap, no duplicate, in order.
func subCheckRun(t testing.TB, what string, gs []uint64, n int) {
	t.Helper()
	if len(gs) != n {
		t.Fatalf("%s: %d events, want %d", what, len(gs), n)
	}
	for i, g := range gs {
		if g != uint64(i+1) {
			t.Fatalf("%s: event %d has global %d, want %d (gap, duplicate or disorder)", what, i, g, i+1)
		}
	}
}

func TestStalledSubscriberNeverHoldsUpTheWriterAndItsDropsAreCountedExactly(t *testing.T) {
	s := subOpen(t, t.TempDir())
	ctx := subGuard(t)
	const n, capacity = 5000, 16
	stalled, err := s.Subscribe(event.AllEvents(), capacity) // never read
	if err != nil {
		t.Fatal(err)
	}
	abandoned, err := s.Subscribe(event.ForScope("room:3"), 1) // never read, never closed
	if err != nil {
		t.Fatal(err)
	}
	reader, err := s.Subscribe(event.AllEvents(), n)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []uint64, 1)
	go func() {
		var gs []uint64
		for {
			m, err := reader.Recv(ctx) // ErrClosed once the store is closed and the buffer empty
			if err != nil {
				if !errors.Is(err, batpak.ErrClosed) {
					t.Error(err)
				}
				break
			}
			gs = append(gs, m.Global)
		}
		got <- gs
	}()

	// The behaviour under test: every append completes although two
	// subscribers never read. (A writer that waited for them would hang
	// here until the guard's deadline.)
	subAppendPipelined(t, ctx, s, n)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	subCheckRun(t, "reader", <-got, n)
	if reader.Dropped() != 0 {
		t.Fatalf("reader dropped %d", reader.Dropped())
	}
	if buffered := stalled.Len(); buffered != capacity || stalled.Dropped() != n-capacity {
		t.Fatalf("stalled: %d buffered, %d dropped; want %d and exactly %d", buffered, stalled.Dropped(), capacity, n-capacity)
	}
	if abandoned.Dropped() != n/10-1 {
		t.Fatalf("abandoned: %d dropped, want %d", abandoned.Dropped(), n/10-1)
	}
}

func TestCursorsUnderConcurrentAppendsAndBatchesSeeEveryEventOnceInOrder(t *testing.T) {
	s := subOpen(t, t.TempDir(), batpak.WithDurability(batpak.OnWrite))
	ctx := subGuard(t)
	const producers, rounds, batch = 4, 150, 4
	const total = producers * rounds * (1 + batch)

	var wg sync.WaitGroup
	type result struct {
		name string
		gs   []uint64
	}
	results := make(chan result, 4)
	consume := func(name string, read func(c batpak.Cursor, left int) ([]*event.StoredEvent, error)) {
		c, err := s.Cursor(event.AllEvents(), 0)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		var gs []uint64
		for len(gs) < total {
			evs, err := read(c, total-len(gs))
			if err != nil {
				t.Errorf("%s: %v", name, err)
				break
			}
			for _, ev := range evs {
				gs = append(gs, ev.Global)
			}
		}
		results <- result{name, gs}
	}
	wg.Go(func() {
		consume("Next", func(c batpak.Cursor, _ int) ([]*event.StoredEvent, error) {
			ev, err := c.Next(ctx)
			return []*event.StoredEvent{ev}, err
		})
	})
	wg.Go(func() {
		consume("NextBatch", func(c batpak.Cursor, _ int) ([]*event.StoredEvent, error) { return c.NextBatch(ctx, 64) })
	})
	wg.Go(func() {
		// Batches are visible whole: once a batch's first item is read, the
		// rest are read with an already-ended context, which only works
		// for events that need no waiting.
		ended, cancel := context.WithCancel(ctx)
		cancel()
		consume("whole batches", func(c batpak.Cursor, _ int) ([]*event.StoredEvent, error) {
			ev, err := c.Next(ctx)
			if err != nil {
				return nil, err
			}
			evs := []*event.StoredEvent{ev}
			it, err := batpak.Decode[subItem](ev)
			if err != nil {
				return nil, err
			}
			for range it.K - 1 {
				next, err := c.Next(ended)
				if err != nil {
					return nil, fmt.Errorf("batch %d/%d: item after %d not visible with it: %w", it.P, it.B, ev.Global, err)
				}
				evs = append(evs, next)
			}
			return evs, nil
		})
	})
	wg.Go(func() {
		var gs []uint64
		for ev, err := range subCatchUp(s, ctx, event.AllEvents(), 0) {
			if err != nil {
				t.Errorf("CatchUp: %v", err)
				break
			}
			if gs = append(gs, ev.Global); len(gs) == total {
				break
			}
		}
		results <- result{"CatchUp", gs}
	})
	for p := range producers {
		wg.Go(func() {
			for r := range rounds {
				c := event.MustCoordinate(fmt.Sprintf("p:%d", p), "room:1")
				if _, err := s.Append(ctx, c, subKind, subItem{P: p, B: r, K: 1}); err != nil {
					t.Error(err)
					return
				}
				items := make([]batpak.BatchItem, batch)
				for i := range items {
					items[i] = batpak.BatchItem{
						Coord: event.MustCoordinate(fmt.Sprintf("p:%d:%d", p, i), "room:2"),
						Kind:  subKind, Payload: subItem{P: p, B: r, I: i, K: batch},
					}
				}
				if _, err := s.AppendBatch(ctx, items); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(results)
	for r := range results {
		subCheckRun(t, r.name, r.gs, total)
	}
}

func TestCatchUpHasNoGapOrDuplicateAtTheHistoryLiveBoundary(t *testing.T) {
	s := subOpen(t, t.TempDir(), batpak.WithDurability(batpak.OnWrite))
	ctx := subGuard(t)
	const total, readers = 3000, 12
	// Reader k joins once k*total/readers events are acknowledged, so each
	// crosses from history to live at a different place while appends run.
	joins := make([]chan struct{}, readers)
	for k := range joins {
		joins[k] = make(chan struct{})
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		c := event.MustCoordinate("player:1", "room:1")
		next := 0
		for i := range total {
			for next < readers && i >= next*total/readers {
				close(joins[next])
				next++
			}
			if _, err := s.Submit(ctx, c, subKind, subItem{I: i}, batpak.AppendOptions{}); err != nil {
				t.Error(err)
				return
			}
		}
		if err := s.Sync(ctx); err != nil {
			t.Error(err)
		}
	})
	for k := range readers {
		wg.Go(func() {
			<-joins[k]
			var gs []uint64
			for ev, err := range subCatchUp(s, ctx, event.ForEntity("player:1"), 0) {
				if err != nil {
					t.Errorf("reader %d: %v", k, err)
					return
				}
				if gs = append(gs, ev.Global); len(gs) == total {
					break
				}
			}
			subCheckRun(t, fmt.Sprintf("reader %d", k), gs, total)
		})
	}
	wg.Wait()
}

func TestDurableCursorResumesAtTheAcknowledgedPositionAfterCloseAndAfterACrash(t *testing.T) {
	fs := vfs.NewMem()
	const dir = "/db"
	s := subOpen(t, dir, batpak.WithFS(fs))
	ctx := subGuard(t)
	subAppendPipelined(t, ctx, s, 20)

	d, err := s.DurableCursor("billing", event.AllEvents())
	if err != nil {
		t.Fatal(err)
	}
	evs, err := d.NextBatch(ctx, 8)
	if err != nil || len(evs) != 8 {
		t.Fatalf("NextBatch: %d, %v", len(evs), err)
	}
	if err := d.Ack(ctx, evs[7].Global); err != nil {
		t.Fatal(err)
	}
	if _, err := d.NextBatch(ctx, 5); err != nil { // delivered, not acknowledged
		t.Fatal(err)
	}
	crashed := fs.CrashClone(vfs.CrashOptions{}) // power loss now
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Ack(ctx, 13); !errors.Is(err, batpak.ErrClosed) {
		t.Fatalf("Ack after Close: %v, want ErrClosed", err)
	}
	d.Close()

	for name, fsys := range map[string]vfs.FS{"after Close": fs, "after a crash": crashed} {
		s2 := subOpen(t, dir, batpak.WithFS(fsys))
		d2, err := s2.DurableCursor("billing", event.AllEvents())
		if err != nil {
			t.Fatalf("%s: OpenCursor: %v", name, err)
		}
		ev, err := d2.Next(ctx)
		if err != nil || d2.Acked() != 8 || ev.Global != 9 {
			t.Fatalf("%s: acked %d, next %v, %v; want acked 8 and global 9 next (at-least-once)", name, d2.Acked(), ev, err)
		}
		d2.Close()
		if err := s2.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCorruptDurableCursorFileIsAClearError(t *testing.T) {
	fs := vfs.NewMem()
	s := subOpen(t, "/db", batpak.WithFS(fs))
	d, err := s.DurableCursor("c1", event.AllEvents())
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if err := fs.MkdirAll("/db/cursors"); err != nil {
		t.Fatal(err)
	}
	f, err := fs.Create("/db/cursors/c2")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("not a cursor file at all"), 0)
	f.Close()
	if _, err := s.DurableCursor("c2", event.AllEvents()); !errors.Is(err, batpak.ErrCursorCorrupt) {
		t.Fatalf("OpenCursor over garbage: %v, want ErrCursorCorrupt", err)
	}
	if _, err := s.DurableCursor("../escape", event.AllEvents()); !errors.Is(err, batpak.ErrInvalidCursorName) {
		t.Fatalf("OpenCursor with a path in the name: %v", err)
	}
}

func TestEveryWaitEndsWithErrClosedWhenTheStoreCloses(t *testing.T) {
	s := subOpen(t, t.TempDir())
	ctx := subGuard(t)
	lossy, _ := s.Subscribe(event.AllEvents(), 4)
	cur, _ := s.Cursor(event.AllEvents(), 0)
	errs := make(chan error, 4)
	go func() { _, err := lossy.Recv(ctx); errs <- err }()
	go func() { _, err := cur.Next(ctx); errs <- err }()
	go func() { errs <- s.WaitVisible(ctx, 1) }()
	go func() {
		for _, err := range subCatchUp(s, ctx, event.AllEvents(), 0) {
			errs <- err
		}
	}()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if err := <-errs; !errors.Is(err, batpak.ErrClosed) {
			t.Fatalf("a wait ended with %v, want ErrClosed", err)
		}
	}
	if _, err := s.Subscribe(event.AllEvents(), 4); !errors.Is(err, batpak.ErrClosed) {
		t.Fatalf("Subscribe after Close: %v", err)
	}
	if _, err := s.Cursor(event.AllEvents(), 0); !errors.Is(err, batpak.ErrClosed) {
		t.Fatalf("Cursor after Close: %v", err)
	}
	if _, err := s.DurableCursor("x", event.AllEvents()); !errors.Is(err, batpak.ErrClosed) {
		t.Fatalf("OpenCursor after Close: %v", err)
	}
	if _, err := s.ReactLoop(ctx, event.AllEvents(), func(context.Context, *batpak.StoredEvent) ([]batpak.BatchItem, error) { return nil, nil }); !errors.Is(err, batpak.ErrClosed) {
		t.Fatalf("ReactLoop after Close: %v", err)
	}
}

func TestSubscribersNeverSeeAnEventWhoseFsyncFailed(t *testing.T) {
	// C6: in Durable mode an event is handed to the fan-out only after its
	// fsync. Fail that fsync and no subscriber or cursor may see it.
	var failSync atomic.Bool
	s := subOpen(t, t.TempDir(), batpak.WithInjection(func(p batpak.InjectionPoint) error {
		if p == batpak.InjectBeforeFsync && failSync.Load() {
			return errors.New("injected fsync failure")
		}
		return nil
	}))
	ctx := subGuard(t)
	lossy, _ := s.Subscribe(event.AllEvents(), 100)
	c := event.MustCoordinate("player:1", "room:1")
	if _, err := s.Append(ctx, c, subKind, 1); err != nil {
		t.Fatal(err)
	}
	failSync.Store(true)
	if _, err := s.Append(ctx, c, subKind, 2); !errors.Is(err, batpak.ErrFailStop) {
		t.Fatalf("Append over a failed fsync: %v, want ErrFailStop", err)
	}
	cur, _ := s.Cursor(event.AllEvents(), 0)
	defer cur.Close()
	evs, err := cur.NextBatch(ctx, 10)
	if err != nil || len(evs) != 1 {
		t.Fatalf("cursor saw %d events (%v), want only the durable one", len(evs), err)
	}
	s.Close()
	if n := lossy.Len(); n != 1 {
		t.Fatalf("the lossy subscriber saw %d events, want only the durable one", n)
	}
}

func TestWaitVisibleIsReadYourWritesAcrossGoroutines(t *testing.T) {
	s := subOpen(t, t.TempDir())
	ctx := subGuard(t)
	receipts := make(chan batpak.Receipt, 1)
	go func() {
		r, err := s.Append(ctx, event.MustCoordinate("player:1", "room:1"), subKind, 1)
		if err != nil {
			t.Error(err)
		}
		receipts <- r
	}()
	r := <-receipts
	if err := s.WaitVisible(ctx, r.Global); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, r.ID); err != nil {
		t.Fatalf("Get after WaitVisible: %v", err)
	}
}

func ExampleStore_Subscribe() {
	dir, _ := os.MkdirTemp("", "batpak-example-")
	defer os.RemoveAll(dir)
	store, _ := batpak.Open(dir)
	defer store.Close()
	ctx := context.Background()

	// Notifications for room:lobby, buffered up to 64; a slow reader loses
	// (and counts) what does not fit, and never slows the writer.
	sub, _ := store.Subscribe(event.ForScope("room:lobby"), 64)
	defer sub.Close()

	spoke := event.MustCustom(0x1, 0x002)
	store.Append(ctx, event.MustCoordinate("user:ann", "room:lobby"), spoke, "hello")
	store.Append(ctx, event.MustCoordinate("user:bob", "room:attic"), spoke, "elsewhere")
	store.Append(ctx, event.MustCoordinate("user:bob", "room:lobby"), spoke, "hi ann")

	for range 2 {
		n, _ := sub.Recv(ctx)
		fmt.Println(n.Global, n.Coordinate)
	}
	fmt.Println("dropped:", sub.Dropped())
	// Output:
	// 1 user:ann@room:lobby
	// 3 user:bob@room:lobby
	// dropped: 0
}

func ExampleStore_Cursor() {
	dir, _ := os.MkdirTemp("", "batpak-example-")
	defer os.RemoveAll(dir)
	store, _ := batpak.Open(dir)
	defer store.Close()
	ctx := context.Background()
	spoke := event.MustCustom(0x1, 0x002)
	for _, line := range []string{"first", "second", "third"} {
		store.Append(ctx, event.MustCoordinate("user:ann", "room:lobby"), spoke, line)
	}

	// A cursor never loses an event: it reads from the store, and when it
	// has caught up, Next waits for the next one.
	cur, _ := store.Cursor(event.ForScope("room:lobby"), 0)
	for range 2 {
		ev, _ := cur.Next(ctx)
		line, _ := batpak.Decode[string](ev)
		fmt.Println(ev.Global, line)
	}
	saved := cur.Position()
	cur.Close()

	// Later: resume right after the saved position.
	cur, _ = store.Cursor(event.ForScope("room:lobby"), saved)
	defer cur.Close()
	ev, _ := cur.Next(ctx)
	line, _ := batpak.Decode[string](ev)
	fmt.Println(ev.Global, line)
	// Output:
	// 1 first
	// 2 second
	// 3 third
}

// The W7 and W8 workloads of BENCH.md, scaled by b.N: one op is one event
// appended (W7) or one event read by every cursor (W8), so ns/op is per
// event and -benchtime=100000x runs W7 as specified (-benchtime=200000x
// for W8). Rates are per subscriber (per cursor): the median over the 16,
// and the slowest.

var (
	w7Coords = func() []batpak.Coordinate {
		cs := make([]batpak.Coordinate, 1000)
		for i := range cs {
			cs[i] = event.MustCoordinate(fmt.Sprintf("player:%d", i), fmt.Sprintf("room:%d", i%10))
		}
		return cs
	}()
	w7Kind = event.MustCustom(1, 1)
)

// subCatchUp is a cursor's All from from, the cursor closed when the loop
// ends: the catch-up subscription, as a one-liner for the tests.
func subCatchUp(s *batpak.Store, ctx context.Context, region batpak.Region, from uint64) iter.Seq2[*batpak.StoredEvent, error] {
	return func(yield func(*batpak.StoredEvent, error) bool) {
		c, err := s.Cursor(region, from)
		if err != nil {
			yield(nil, err)
			return
		}
		defer c.Close()
		for ev, err := range c.All(ctx) {
			if !yield(ev, err) {
				return
			}
		}
	}
}
