package reliability_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/vfs"
	"go.uber.org/goleak"
)

// Storage faults and actor crashes: fail-stop after a failed write or
// fsync with no fsync retried (C5), and callers answered, never left
// hanging, when an actor panics (C7).

// hangGuard bounds a wait that must end: a store bug that leaves a caller
// waiting for a reply that never comes fails the test with a message
// instead of stalling it until the test binary times out. It is a guard
// against hangs, not a timing assertion: a correct store answers long
// before it. dueGuard is the shorter guard for a reply that is already
// due (a later request has been answered), which only has to be received.
const (
	hangGuard = 30 * time.Second
	dueGuard  = 2 * time.Second
)

func TestStorageFaultStopsWritesForGood(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []batpak.Option
		rule func(dir string) vfs.Rule
		// trigger runs the operation the fault hits and returns its error.
		trigger func(t *testing.T, s *batpak.Store) error
		torn    bool // the fault leaves a torn record behind
	}{
		{
			name:    "FsyncFails",
			rule:    func(string) vfs.Rule { return vfs.Rule{Op: vfs.OpSync, Path: ".seg"} },
			trigger: appendOnce,
		},
		{
			name:    "FsyncFailsWithEIO",
			rule:    func(string) vfs.Rule { return vfs.Rule{Op: vfs.OpSync, Path: ".seg", Err: syscall.EIO} },
			trigger: batchOnce,
		},
		{
			name:    "WriteFails",
			rule:    func(string) vfs.Rule { return vfs.Rule{Op: vfs.OpWrite, Path: ".seg"} },
			trigger: appendOnce,
		},
		{
			name:    "DiskFull",
			rule:    func(string) vfs.Rule { return vfs.Rule{Op: vfs.OpWrite, Path: ".seg", Err: syscall.ENOSPC} },
			trigger: batchOnce,
		},
		{
			name:    "ShortWrite",
			rule:    func(string) vfs.Rule { return vfs.Rule{Op: vfs.OpWrite, Path: ".seg", Short: true} },
			trigger: batchOnce,
			torn:    true,
		},
		{
			name: "OnWriteSyncFails",
			opts: []batpak.Option{batpak.WithDurability(batpak.OnWrite), batpak.WithSyncEvery(0, 0)},
			rule: func(string) vfs.Rule { return vfs.Rule{Op: vfs.OpSync, Path: ".seg"} },
			trigger: func(t *testing.T, s *batpak.Store) error {
				if err := appendOnce(t, s); err != nil {
					return fmt.Errorf("the on-write append itself failed: %w", err)
				}
				return s.Sync(bg)
			},
		},
		{
			name: "NewSegmentDirectorySyncFails",
			opts: []batpak.Option{batpak.WithSegmentSize(64 << 10)},
			rule: func(dir string) vfs.Rule { return vfs.Rule{Op: vfs.OpSyncDir, Path: dir} },
			trigger: func(t *testing.T, s *batpak.Store) error {
				// Fill the segment until the writer must start another.
				for range 100 {
					if _, err := s.Append(bg, coord(t, "fill", "s"), kindMoved, make([]byte, 1000)); err != nil {
						return err
					}
				}
				return errors.New("no rotation happened")
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			t.Cleanup(func() { goleak.VerifyNone(t, leaks) }) // after the stores' own cleanups
			dir := t.TempDir()
			ffs := vfs.NewFaulty(vfs.OS)
			s := openStore(t, dir, append([]batpak.Option{batpak.WithFS(ffs)}, tc.opts...)...)
			c := coord(t, "e", "s")
			var acked []batpak.Receipt
			for i := range 3 {
				acked = append(acked, mustAppend(t, s, c, kindMoved, payload{N: i}))
			}
			if err := s.Sync(bg); err != nil {
				t.Fatal(err)
			}
			ffs.Inject(tc.rule(dir))

			err := tc.trigger(t, s)
			if !errors.Is(err, batpak.ErrFailStop) || !errors.Is(err, vfs.ErrInjected) {
				t.Fatalf("the operation that met the fault: %v; want ErrFailStop wrapping the injected error", err)
			}
			if ffs.Injected() != 1 {
				t.Fatalf("%d faults injected, want 1", ffs.Injected())
			}
			syncs, writes := ffs.Count(vfs.OpSync), ffs.Count(vfs.OpWrite)

			// Every later write is refused with the same sticky error.
			for i, call := range writeCalls(t, s) {
				if err := call(); !errors.Is(err, batpak.ErrFailStop) {
					t.Fatalf("write call %d after the fault: %v, want ErrFailStop", i, err)
				}
			}
			if st := s.Stats(); !errors.Is(st.FailStop, batpak.ErrFailStop) {
				t.Fatalf("Stats().FailStop = %v", st.FailStop)
			}
			// Reads still work and show exactly what was acknowledged
			// (the pre-fault events; on-write ones are visible when written).
			evs := all(t, s)
			for i, r := range acked {
				if i >= len(evs) || !receiptMatches(r, evs[i]) {
					t.Fatalf("acknowledged event %d not readable after the fault", i)
				}
				if _, err := s.Get(bg, r.ID); err != nil {
					t.Fatalf("Get after the fault: %v", err)
				}
			}
			if tc.opts == nil && len(evs) != len(acked) {
				t.Fatalf("%d events visible, %d acknowledged: an event whose write or fsync failed became visible", len(evs), len(acked))
			}
			if got := ffs.Count(vfs.OpSync); got != syncs {
				t.Fatalf("%d fsyncs after the fault: a failed fsync was retried (or the store kept syncing)", got-syncs)
			}
			if got := ffs.Count(vfs.OpWrite); got != writes {
				t.Fatalf("%d writes after the fault", got-writes)
			}
			// Close returns (its error may report the failure) and syncs nothing.
			_ = s.Close()
			if got := ffs.Count(vfs.OpSync); got != syncs {
				t.Fatalf("Close ran %d fsyncs after a fail-stop", got-syncs)
			}

			// A fresh store on the healthy disk has every acknowledged event.
			s2 := openStore(t, dir)
			evs = all(t, s2)
			for i, r := range acked {
				if i >= len(evs) || !receiptMatches(r, evs[i]) {
					t.Fatalf("reopened: acknowledged event %d lost", i)
				}
			}
			if tc.torn && !s2.Stats().Recovery.Torn {
				t.Fatal("reopened: the torn write was not reported")
			}
			checkLog(t, s2, evs, true)
			r := mustAppend(t, s2, c, kindMoved, payload{N: 100})
			if want := uint64(len(collect(t, s2.Stream(bg, "e"))) - 1); r.Sequence != want {
				t.Fatalf("reopened: append got sequence %d, want %d", r.Sequence, want)
			}
			closeStore(t, s2)
		})
	}
}

func appendOnce(t *testing.T, s *batpak.Store) error {
	_, err := s.Append(bg, coord(t, "e", "s"), kindMoved, payload{N: -1})
	return err
}

func batchOnce(t *testing.T, s *batpak.Store) error {
	_, err := s.AppendBatch(bg, []batpak.BatchItem{
		{Coord: coord(t, "e", "s"), Kind: kindMarker, Payload: batchMark{Batch: 1, Item: 0, Of: 2}},
		{Coord: coord(t, "f", "s"), Kind: kindMarker, Payload: batchMark{Batch: 1, Item: 1, Of: 2}},
	})
	return err
}

// writeCalls are the store's write paths, each returning its error.
func writeCalls(t *testing.T, s *batpak.Store) []func() error {
	c := coord(t, "e", "s")
	return []func() error{
		func() error { _, err := s.Append(bg, c, kindMoved, payload{}); return err },
		func() error {
			_, err := s.AppendWithOptions(bg, c, kindMoved, payload{}, batpak.AppendOptions{IdempotencyKey: "k"})
			return err
		},
		func() error { return batchOnce(t, s) },
		func() error {
			tk, err := s.Submit(bg, c, kindMoved, payload{}, batpak.AppendOptions{})
			if err != nil {
				return err
			}
			_, err = tk.Wait(bg)
			return err
		},
		func() error { return s.Sync(bg) },
		func() error { return appendOnce(t, s) },
	}
}

// panicAt returns an injection that panics the first time p is reached
// once armed, closing fired just before.
func panicAt(p batpak.InjectionPoint, armed *atomic.Bool, fired chan struct{}) func(batpak.InjectionPoint) error {
	var once atomic.Bool
	return func(q batpak.InjectionPoint) error {
		if q == p && armed.Load() && once.CompareAndSwap(false, true) {
			close(fired)
			panic(fmt.Sprintf("boom at %s", p))
		}
		return nil
	}
}

func TestActorPanicIsAnsweredAndRestarted(t *testing.T) {
	for _, tc := range []struct {
		point   batpak.InjectionPoint
		service string
		batch   bool
		// notWritten: the caller must learn that nothing was written.
		notWritten bool
	}{
		{batpak.InjectBeforeWrite, "writer", false, true},
		{batpak.InjectBeforeWrite, "writer", true, true},
		{batpak.InjectBatchBegin, "writer", true, true},
		{batpak.InjectBatchItem, "writer", true, true},
		{batpak.InjectBatchCommit, "writer", true, true},
		{batpak.InjectBeforeHandoff, "writer", false, true},
		{batpak.InjectBeforeHandoff, "writer", true, true},
		{batpak.InjectBeforeFsync, "fsync", false, false},
		{batpak.InjectBeforePublish, "fsync", true, false},
	} {
		name := string(tc.point)
		if tc.batch {
			name += "/batch"
		}
		t.Run(name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			t.Cleanup(func() { goleak.VerifyNone(t, leaks) }) // after the store's own cleanup
			dir := t.TempDir()
			var armed atomic.Bool
			fired := make(chan struct{})
			s := openStore(t, dir, batpak.WithInjection(panicAt(tc.point, &armed, fired)))
			c := coord(t, "e", "s")
			for i := range 2 {
				mustAppend(t, s, c, kindMoved, payload{N: i})
			}
			armed.Store(true)

			submit := func() (batpak.Ticket, error) {
				if tc.batch {
					return s.SubmitBatch(bg, []batpak.BatchItem{
						{Coord: c, Kind: kindMarker, Payload: batchMark{Batch: 7, Item: 0, Of: 2}, Options: batpak.AppendOptions{IdempotencyKey: "victim-0"}},
						{Coord: coord(t, "f", "s"), Kind: kindMarker, Payload: batchMark{Batch: 7, Item: 1, Of: 2}, Options: batpak.AppendOptions{IdempotencyKey: "victim-1"}},
					}, batpak.DefaultDurability)
				}
				return s.Submit(bg, c, kindMoved, payload{N: 2}, batpak.AppendOptions{IdempotencyKey: "victim-0"})
			}
			victim, err := submit()
			if err != nil {
				t.Fatal(err)
			}
			<-fired // the victim drove the actor into the panic
			// An append sent after the panic is served by the restarted
			// actor, in order: once it is answered, so must the victim be.
			probe := mustAppend(t, s, coord(t, "probe", "s"), kindMoved, payload{})
			ctx, cancel := context.WithTimeout(bg, dueGuard)
			first, err := victim.WaitAll(ctx)
			cancel()
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("the %s actor panicked at %s and the caller was never answered, though a later append (global %d) was", tc.service, tc.point, probe.Global)
			}
			if tc.notWritten && !errors.Is(err, batpak.ErrNotWritten) {
				t.Fatalf("after a panic at %s the caller got %v, want ErrNotWritten", tc.point, err)
			}

			// The retry, with the same keys, is exactly-once either way.
			again, rerr := submit()
			if rerr == nil {
				again2, werr := again.WaitAll(bg)
				rerr = werr
				for i := range again2 {
					if err == nil && (!again2[i].Replayed || again2[i].ID != first[i].ID) {
						t.Fatalf("retry of an acknowledged append was not a replay of it: %+v", again2[i])
					}
					if err != nil && again2[i].Replayed {
						t.Fatalf("retry after %v was a replay: something had been written", err)
					}
				}
			}
			if rerr != nil {
				t.Fatalf("retry after the restart: %v", rerr)
			}
			st := s.Stats()
			restarts := map[string]int{"writer": st.WriterRestarts, "fsync": st.FsyncRestarts}
			if restarts[tc.service] != 1 || st.WriterRestarts+st.FsyncRestarts != 1 {
				t.Fatalf("restarts: writer %d, fsync %d; want one of the %s actor", st.WriterRestarts, st.FsyncRestarts, tc.service)
			}
			if st.FailStop != nil {
				t.Fatalf("a restarted actor left the store failed: %v", st.FailStop)
			}
			// Later appends work; nothing is duplicated or partial.
			for i := range 3 {
				mustAppend(t, s, c, kindMoved, payload{N: 10 + i})
			}
			want := 2 + 1 + 3 + 1
			if tc.batch {
				want++
			}
			verify := func(s *batpak.Store, when string) {
				t.Helper()
				evs := all(t, s)
				if len(evs) != want {
					t.Fatalf("%s: %d events, want %d", when, len(evs), want)
				}
				if _, err := batchCounts(evs); err != nil {
					t.Fatalf("%s: %v", when, err)
				}
				checkLog(t, s, evs, true)
			}
			verify(s, "after the restart")
			closeStore(t, s)
			s = openStore(t, dir)
			verify(s, "reopened")
			closeStore(t, s)
		})
	}
}

func TestPanicPastTheRestartBudgetFailsStop(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, leaks) }) // after the stores' own cleanups
	dir := t.TempDir()
	var armed atomic.Bool
	s := openStore(t, dir,
		batpak.WithSegmentSize(64<<10), // the unsealed segment is reread on reopen: keep it small
		batpak.WithRestartPolicy(batpak.RestartPolicy{MaxRestarts: 1, Within: time.Hour}),
		batpak.WithInjection(func(p batpak.InjectionPoint) error {
			if p == batpak.InjectBeforeWrite && armed.Load() {
				panic("boom")
			}
			return nil
		}))
	c := coord(t, "e", "s")
	r := mustAppend(t, s, c, kindMoved, payload{})
	armed.Store(true)

	// The first panic is restarted, the second escalates; both callers are
	// answered with an error.
	for i := range 2 {
		ctx, cancel := context.WithTimeout(bg, hangGuard)
		_, err := s.Append(ctx, c, kindMoved, payload{N: i})
		cancel()
		if err == nil || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("append %d into a panicking writer: %v", i, err)
		}
	}
	// From then on the store fails stop.
	for i, call := range writeCalls(t, s) {
		if err := call(); !errors.Is(err, batpak.ErrFailStop) {
			t.Fatalf("write call %d past the restart budget: %v, want ErrFailStop", i, err)
		}
	}
	st := s.Stats()
	if st.WriterRestarts != 1 || !errors.Is(st.FailStop, batpak.ErrFailStop) {
		t.Fatalf("Stats: %d writer restarts, FailStop %v", st.WriterRestarts, st.FailStop)
	}
	if ev, err := s.Get(bg, r.ID); err != nil || ev.ID != r.ID {
		t.Fatalf("reads after escalation: %v", err)
	}
	if n := len(all(t, s)); n != 1 {
		t.Fatalf("%d events visible, want the 1 acknowledged", n)
	}
	_ = s.Close() // returns; its error may report the escalation

	s = openStore(t, dir)
	if n := len(all(t, s)); n != 1 {
		t.Fatalf("reopened: %d events, want 1", n)
	}
	mustAppend(t, s, c, kindMoved, payload{})
	closeStore(t, s)
}
