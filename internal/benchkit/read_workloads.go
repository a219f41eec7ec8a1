package benchkit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/reader"
)

// The read-side workloads of BENCH.md: W4 (open and its memory) and W5
// (point, stream and scope reads). They are listed in workloads.

// The bars of the read-side issue, shown next to the figures.
func init() {
	for k, t := range map[[2]string]Target{
		{"W4", "ms_checkpoint"}:               {AtMost: true, Value: 200},
		{"W4", "ms_rebuild"}:                  {AtMost: true, Value: 600},
		{"W4", "rss_bytes_per_event"}:         {AtMost: true, Value: 100},
		{"W4", "rss_bytes_per_event_rebuild"}: {AtMost: true, Value: 100},
		{"W4", "bytes_per_event"}:             {AtMost: true, Value: 120},
		{"W5", "ops_per_sec_get"}:             {Value: 1_500_000},
		{"W5", "ops_per_sec_stream"}:          {Value: 400_000},
		{"W5", "ops_per_sec_scope"}:           {Value: 5_000},
	} {
		Targets[k] = t
	}
}

// opensPerRun is how many times W4 opens the store each way in one run;
// it reports the median.
const opensPerRun = 3

// fillBatch is the size of the atomic batches the read workloads write
// their stores with, and fillWindow how many are in flight at once.
const (
	fillBatch  = 1000
	fillWindow = 4
)

// fill appends n events of the common shape to s in pipelined batches
// and returns their ids in append order.
func fill(ctx context.Context, s *batpak.Store, n int) ([]batpak.ID, error) {
	ids := make([]batpak.ID, 0, n)
	items := make([]batpak.BatchItem, 0, fillBatch)
	var window []batpak.Ticket
	wait := func() error {
		rs, err := window[0].WaitAll(ctx)
		if err != nil {
			return err
		}
		for _, r := range rs {
			ids = append(ids, r.ID)
		}
		window = window[1:]
		return nil
	}
	for i := 0; i < n; {
		items = items[:0]
		for ; i < n && len(items) < fillBatch; i++ {
			items = append(items, batpak.BatchItem{Coord: CoordOf(i), Kind: Kind, Payload: PayloadOf(i)})
		}
		if len(window) == fillWindow {
			if err := wait(); err != nil {
				return nil, err
			}
		}
		t, err := s.SubmitBatch(ctx, items, batpak.DefaultDurability) // copies the items
		if err != nil {
			return nil, err
		}
		window = append(window, t)
	}
	for len(window) > 0 {
		if err := wait(); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// runW4 writes the events, closes the store (which writes the index
// checkpoint), then opens it opensPerRun times with the checkpoint and as
// many times with it deleted (a rebuild by scanning). It reports the
// median milliseconds to open each way; the growth of the heap in use
// across the open (after a GC on each side) per event; and the bytes per
// event of the segments and, apart, of the checkpoint.
//
// Each open starts from a heap whose free memory was handed back to the
// operating system (debug.FreeOSMemory), as in a process that has just
// started: an application opens its store once, at start-up, and the
// faults on fresh pages are part of what that costs. (On a warm heap the
// same opens take several times less on the small VMs BENCH.md's numbers
// come from, where a first touch of a page is slow.)
func runW4(ctx context.Context, env *Env) ([]Figure, error) {
	n := env.N(1_000_000, 1000)
	dir, cleanup, err := env.TempDir("W4")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	s, err := batpak.Open(dir, onWrite()...)
	if err != nil {
		return nil, fmt.Errorf("W4: %w", err)
	}
	_, err = fill(ctx, s, n)
	if err = errors.Join(err, s.Close()); err != nil {
		return nil, fmt.Errorf("W4: writing %d events: %w", n, err)
	}
	segBytes, err := segmentBytes(dir)
	if err != nil {
		return nil, err
	}
	ckpt, err := os.Stat(filepath.Join(dir, reader.CheckpointFile))
	if err != nil {
		return nil, fmt.Errorf("W4: the close wrote no checkpoint: %w", err)
	}
	figs := []Figure{}
	for _, way := range []struct {
		checkpoint bool
		suffix     string
	}{{true, "checkpoint"}, {false, "rebuild"}} {
		var ms, rss []float64
		for range opensPerRun {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			d, grown, err := timeOpen(dir, n, way.checkpoint)
			if err != nil {
				return nil, fmt.Errorf("W4: open (%s): %w", way.suffix, err)
			}
			ms = append(ms, float64(d)/float64(time.Millisecond))
			rss = append(rss, float64(grown)/float64(n))
		}
		rssMetric := "rss_bytes_per_event"
		if !way.checkpoint {
			rssMetric += "_rebuild"
		}
		figs = append(figs,
			Figure{"W4", "ms_" + way.suffix, Median(ms), "ms"},
			Figure{"W4", rssMetric, Median(rss), "bytes/event"})
	}
	return append(figs,
		Figure{"W4", "bytes_per_event", float64(segBytes) / float64(n), "bytes/event"},
		Figure{"W4", "bytes_per_event_checkpoint", float64(ckpt.Size()) / float64(n), "bytes/event"},
	), nil
}

// timeOpen opens and closes the store in dir, first deleting its
// checkpoint unless checkpoint is set, and returns the time Open took and
// how much the heap in use grew across it. It checks that the open went
// the way asked and indexed n events.
func timeOpen(dir string, n int, checkpoint bool) (time.Duration, int64, error) {
	if !checkpoint {
		if err := os.Remove(filepath.Join(dir, reader.CheckpointFile)); err != nil && !os.IsNotExist(err) {
			return 0, 0, err
		}
	}
	var before, after runtime.MemStats
	debug.FreeOSMemory() // collects, then returns free pages: a cold start
	runtime.ReadMemStats(&before)
	start := time.Now()
	s, err := batpak.Open(dir)
	took := time.Since(start)
	if err != nil {
		return 0, 0, err
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	st := s.Stats()
	err = s.Close()
	switch {
	case err != nil:
	case st.Recovery.Checkpoint != checkpoint:
		err = fmt.Errorf("checkpoint used: %v, want %v (%s)", st.Recovery.Checkpoint, checkpoint, st.Recovery)
	case st.Events != n:
		err = fmt.Errorf("indexed %d events, want %d", st.Events, n)
	}
	return took, int64(after.HeapInuse) - int64(before.HeapInuse), err
}

// runW5 writes a store of n events (1,000 entities, 10 scopes), then, on
// the caller's goroutine: Gets every event by id in random order; streams
// each entity in full with Stream; and runs 100 ByScope queries, ten per
// scope, each read in full. It reports the operations per second of each.
func runW5(ctx context.Context, env *Env) ([]Figure, error) {
	n := env.N(100_000, 1000)
	const entities, scopes, scopeQueries = 1000, 10, 100
	var gets, streams, scopeRate float64
	err := env.WithStore("W5", onWrite(), func(s *batpak.Store) error {
		ids, err := fill(ctx, s, n)
		if err != nil {
			return fmt.Errorf("W5: writing %d events: %w", n, err)
		}
		order := rand.New(rand.NewPCG(4, 5)).Perm(n)
		start := time.Now()
		for _, i := range order {
			ev, err := s.Get(ctx, ids[i])
			if err != nil {
				return fmt.Errorf("W5: get %v: %w", ids[i], err)
			}
			if ev.ID != ids[i] {
				return fmt.Errorf("W5: get %v returned %v", ids[i], ev.ID)
			}
		}
		gets = Rate(n, time.Since(start))

		count := func(what string, events func() (int, error), want int) error {
			got, err := events()
			if err == nil && got != want {
				err = fmt.Errorf("read %d events, want %d", got, want)
			}
			if err != nil {
				return fmt.Errorf("W5: %s: %w", what, err)
			}
			return nil
		}
		start = time.Now()
		if err := count("streams", func() (int, error) {
			total := 0
			for e := range entities {
				for _, err := range s.Stream(ctx, coords[e].Entity()) {
					if err != nil {
						return total, err
					}
					total++
				}
			}
			return total, nil
		}, n); err != nil {
			return err
		}
		streams = Rate(entities, time.Since(start))

		start = time.Now()
		if err := count("scope queries", func() (int, error) {
			total := 0
			for q := range scopeQueries {
				for _, err := range s.ByScope(ctx, coords[q%scopes].Scope()) {
					if err != nil {
						return total, err
					}
					total++
				}
			}
			return total, nil
		}, scopeEvents(n, scopes, scopeQueries)); err != nil {
			return err
		}
		scopeRate = Rate(scopeQueries, time.Since(start))
		return nil
	}, nil)
	if err != nil {
		return nil, err
	}
	return []Figure{
		{"W5", "ops_per_sec_get", gets, "gets/s"},
		{"W5", "ops_per_sec_stream", streams, "streams/s"},
		{"W5", "ops_per_sec_scope", scopeRate, "queries/s"},
	}, nil
}

// scopeEvents is how many events queries reads in all when query q reads
// scope q%scopes, and event i is in scope i%scopes.
func scopeEvents(n, scopes, queries int) int {
	total := 0
	for q := range queries {
		r := q % scopes
		total += n / scopes
		if r < n%scopes {
			total++
		}
	}
	return total
}
