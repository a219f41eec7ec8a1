package benchkit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/vfs"
)

// Embedded lists the canonical workloads of the embedded store (batpak
// bench), in the order a run measures them. W0 comes first: later ratios
// use it.
var Embedded = []Workload{
	{ID: "W0", Title: "raw disk: 256-byte write + fsync; sequential write", Run: runW0},
	{ID: "W1", Title: "blocking Append from one goroutine, on write (fsync every 1,000)", Run: runW1},
	{ID: "W1p", Title: "W1 pipelined: Submit all, then wait every ticket", Run: runW1p},
	{ID: "W2", Title: "8 goroutines × 1,000 durable appends, each to its own entity", Needs: []string{"W0"},
		Run: durableParallel("W2", 8, true)},
	{ID: "W2x", Title: "64 goroutines × 1,000 durable appends, each to its own entity",
		Run: durableParallel("W2x", 64, false)},
	{ID: "W3", Title: "400 atomic batches of 256 events, durable", Run: runW3},
	{ID: "W4", Title: "open a 1,000,000-event store: with its checkpoint, and rebuilt by scanning", Run: runW4},
	{ID: "W5", Title: "100,000-event store: Get by id, entity streams, scope queries", Run: runW5},
	{ID: "W5h", Title: "W5's entity streams and scope queries, metadata only: headers from the index", Run: runW5h},
	{ID: "W6", Title: "one entity of 1,000 events: 100 counter projections without, then with a cache", Run: runW6},
	{ID: "W7", Title: "16 lossy subscriptions on all events while 100,000 are appended (on write)", Run: runW7},
	{ID: "W8", Title: "16 cursors from 0 over 100,000 events while 100,000 more are appended", Run: runW8},
	{ID: "W9", Title: "game ticks: 1,000 players in 32×32 chunks, a durable atomic batch a tick, an area-of-interest feed each; at 20 Hz, then unthrottled",
		Needs: []string{"W0", "W3"}, Run: runW9},
}

// onWrite is W1's configuration: acknowledged on write, an fsync every
// 1,000 events (and at least every 100 ms).
func onWrite(extra ...batpak.Option) []batpak.Option {
	return append([]batpak.Option{
		batpak.WithDurability(batpak.OnWrite),
		batpak.WithSyncEvery(1000, 100*time.Millisecond),
	}, extra...)
}

// runW0 measures the physical references: the rate of 256-byte writes
// each followed by File.Sync, and sequential write bandwidth (synced once
// at the end, so the page cache does not flatter it). It records the
// fsync rate in env for the ratios of later workloads.
func runW0(ctx context.Context, env *Env) ([]Figure, error) {
	dir, cleanup, err := env.TempDir("W0")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	fsyncs, err := rawFsyncRate(ctx, filepath.Join(dir, "fsync"), env.N(500, 5), env.SyncData)
	if err != nil {
		return nil, fmt.Errorf("W0: %w", err)
	}
	mbs, err := rawWriteRate(ctx, filepath.Join(dir, "write"), env.N(512, 1)<<20)
	if err != nil {
		return nil, fmt.Errorf("W0: %w", err)
	}
	env.FsyncsPerSec = fsyncs
	return []Figure{
		{"W0", "fsyncs_per_sec", fsyncs, "fsyncs/s"},
		{"W0", "mb_per_sec", mbs, "MB/s"},
	}, nil
}

// rawFsyncRate appends 256 bytes and syncs, n times: with fsync, or with
// dataOnly fdatasync where the platform has it.
func rawFsyncRate(ctx context.Context, name string, n int, dataOnly bool) (float64, error) {
	f, err := vfs.OS.Create(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 256)
	for i := range buf {
		buf[i] = byte(i)
	}
	start := time.Now()
	for i := range n {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if _, err := f.WriteAt(buf, int64(i*len(buf))); err != nil {
			return 0, err
		}
		sync := f.Sync
		if dataOnly {
			sync = func() error { return vfs.SyncData(f) }
		}
		if err := sync(); err != nil {
			return 0, err
		}
	}
	return Rate(n, time.Since(start)), f.Close()
}

func rawWriteRate(ctx context.Context, name string, size int) (float64, error) {
	f, err := os.Create(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	start := time.Now()
	for written := 0; written < size; written += len(buf) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if _, err := f.Write(buf[:min(len(buf), size-written)]); err != nil {
			return 0, err
		}
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	return Rate(size, time.Since(start)) / 1e6, f.Close()
}

// runW1 times single blocking appends in on-write mode, then reports the
// bytes each event took on disk and the allocations of an append.
func runW1(ctx context.Context, env *Env) ([]Figure, error) {
	n := env.N(100_000, 10)
	lat := make(Latencies, n)
	var elapsed time.Duration
	var segBytes int64
	err := env.WithStore("W1", onWrite(), func(s *batpak.Store) error {
		start := time.Now()
		last := start
		for i := range n {
			if _, err := s.Append(ctx, CoordOf(i), Kind, PayloadOf(i)); err != nil {
				return fmt.Errorf("W1: append %d: %w", i, err)
			}
			now := time.Now()
			lat[i], last = now.Sub(last), now
		}
		elapsed = last.Sub(start)
		return nil
	}, func(dir string) (err error) {
		segBytes, err = segmentBytes(dir)
		return err
	})
	if err != nil {
		return nil, err
	}
	raw, enc, err := allocsPerAppend(ctx, env)
	if err != nil {
		return nil, err
	}
	figs := []Figure{{"W1", "events_per_sec", Rate(n, elapsed), "events/s"}}
	figs = append(figs, lat.Figures("W1")...)
	return append(figs,
		Figure{"W1", "bytes_per_event", float64(segBytes) / float64(n), "bytes/event"},
		Figure{"W1", "allocs_per_op", raw, "allocs/append"},
		Figure{"W1", "allocs_per_op_net", raw - enc, "allocs/append"},
	), nil
}

// allocsPerAppend counts heap allocations, in every goroutine of the
// process (the store's actors included), per on-write Append; and, apart,
// per building and encoding the payload alone, which is the caller's
// cost rather than the store's.
func allocsPerAppend(ctx context.Context, env *Env) (raw, enc float64, err error) {
	n := env.N(20_000, 100)
	err = env.WithStore("W1-allocs", onWrite(), func(s *batpak.Store) error {
		for i := range n / 10 { // warm the pools and the index's maps
			if _, err := s.Append(ctx, CoordOf(i), Kind, PayloadOf(i)); err != nil {
				return err
			}
		}
		raw, err = mallocsPer(n, func(i int) error {
			_, err := s.Append(ctx, CoordOf(i), Kind, PayloadOf(i))
			return err
		})
		return err
	}, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("W1 allocations: %w", err)
	}
	enc, err = mallocsPer(n, func(i int) error {
		_, _, err := event.Encode(event.CodecMsgPack, PayloadOf(i))
		return err
	})
	return raw, enc, err
}

func mallocsPer(n int, op func(i int) error) (float64, error) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range n {
		if err := op(i); err != nil {
			return 0, err
		}
	}
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs-before.Mallocs) / float64(n), nil
}

// runW1p submits every append of W1 without waiting, then waits for all
// the tickets; the clock runs from the first Submit to the last receipt.
func runW1p(ctx context.Context, env *Env) ([]Figure, error) {
	n := env.N(100_000, 10)
	tickets := make([]batpak.Ticket, n)
	var elapsed time.Duration
	err := env.WithStore("W1p", onWrite(), func(s *batpak.Store) error {
		start := time.Now()
		for i := range tickets {
			t, err := s.Submit(ctx, CoordOf(i), Kind, PayloadOf(i), batpak.AppendOptions{})
			if err != nil {
				return fmt.Errorf("W1p: submit %d: %w", i, err)
			}
			tickets[i] = t
		}
		for i, t := range tickets {
			if _, err := t.Wait(ctx); err != nil {
				return fmt.Errorf("W1p: wait %d: %w", i, err)
			}
		}
		elapsed = time.Since(start)
		return nil
	}, nil)
	if err != nil {
		return nil, err
	}
	return []Figure{{"W1p", "events_per_sec", Rate(n, elapsed), "events/s"}}, nil
}

// durableParallel returns a workload of goroutines × 1,000 durable
// appends, each goroutine to its own entity, all released together. The
// store's file system counts fsyncs. With ratio set it reports
// events/s ÷ (goroutines × the raw fsync rate): 1 would mean every
// goroutine appended as fast as the disk alone can fsync.
func durableParallel(id string, goroutines int, ratio bool) func(context.Context, *Env) ([]Figure, error) {
	return func(ctx context.Context, env *Env) ([]Figure, error) {
		per := env.N(1000, 2)
		cfs := newCountingFS()
		var figs []Figure
		var syncs int64
		err := env.WithStore(id, []batpak.Option{batpak.WithFS(cfs)}, func(s *batpak.Store) error {
			syncs0 := cfs.syncs.Load()
			var err error
			figs, err = FacadeParallel(ctx, s, id, goroutines, per)
			syncs = cfs.syncs.Load() - syncs0
			return err
		}, nil)
		if err != nil {
			return nil, err
		}
		if syncs > 0 {
			figs = append(figs, Figure{id, "events_per_fsync", float64(goroutines*per) / float64(syncs), "events/fsync"})
		}
		if ratio && env.FsyncsPerSec > 0 {
			for _, f := range figs {
				if f.Metric == "events_per_sec" {
					figs = append(figs, Figure{id, "limit_ratio", f.Value / (float64(goroutines) * env.FsyncsPerSec), "ratio"})
					break
				}
			}
		}
		return figs, nil
	}
}

// runW3 appends 400 atomic batches of 256 events, durably, one after another.
func runW3(ctx context.Context, env *Env) ([]Figure, error) {
	var figs []Figure
	err := env.WithStore("W3", nil, func(s *batpak.Store) (err error) {
		figs, err = FacadeBatches(ctx, s, "W3", env.N(400, 1), 256)
		return err
	}, nil)
	for _, f := range figs {
		if f.Metric == "events_per_sec" {
			env.W3EventsPerSec = f.Value // W9's reference
		}
	}
	return figs, err
}
