package benchkit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/projector"
)

// The live-side workloads of BENCH.md: W6 (projections), W7 (lossy
// subscriptions) and W8 (guaranteed cursors). They are listed in
// workloads and measure what project_test.go's BenchmarkW6 and
// subscribe_test.go's BenchmarkW7/W8 measure, at BENCH.md's sizes.

// The bars of the live-side issues, shown next to the figures. Lost
// notifications and cursor gaps must be zero.
func init() {
	for k, t := range map[[2]string]Target{
		{"W6", "ms_nocache"}:     {AtMost: true, Value: 0.1},
		{"W6", "ms_cached"}:      {AtMost: true, Value: 0.005},
		{"W7", "events_per_sec"}: {Value: 500_000},
		{"W7", "lost"}:           {AtMost: true, Value: 0},
		{"W8", "events_per_sec"}: {Value: 1_000_000},
		{"W8", "gaps"}:           {AtMost: true, Value: 0},
	} {
		Targets[k] = t
	}
}

// LiveSubscribers is the number of subscriptions (W7) and cursors (W8).
const LiveSubscribers = 16

// liveDeadline bounds a live workload whose consumers would otherwise
// wait forever for an event that never comes (a bug, not a measurement).
const liveDeadline = 5 * time.Minute

// w6Counter is W6's projection: it counts an entity's Kind events
// without decoding them, so the figure is the store's cost.
type w6Counter struct{ N int64 }

func (*w6Counter) Projection() projector.Spec {
	return projector.Spec{Name: "bench-counter", Version: 1, Kinds: []event.EventKind{Kind}, Incremental: true}
}

func (c *w6Counter) Apply(*event.StoredEvent) error { c.N++; return nil }

// runW6 writes one entity of 1,000 events (one atomic batch), then, after
// a few untimed projections that warm the read path, times 100 projections
// without a cache and, after one projection that fills it, 100 from a
// memory cache. It reports milliseconds per projection.
func runW6(ctx context.Context, env *Env) ([]Figure, error) {
	events, projections := env.N(1000, 50), env.N(100, 10)
	var noCache, cached float64
	err := env.WithStore("W6", onWrite(), func(s *batpak.Store) error {
		coord := coords[0]
		items := make([]batpak.BatchItem, events)
		for i := range items {
			items[i] = batpak.BatchItem{Coord: coord, Kind: Kind, Payload: PayloadOf(i)}
		}
		if _, err := s.AppendBatch(ctx, items); err != nil {
			return fmt.Errorf("W6: writing %d events: %w", events, err)
		}
		project := func(opts ...batpak.ProjectOption) error {
			c, err := batpak.Project[w6Counter](ctx, s, coord.Entity(), batpak.Consistent, opts...)
			if err == nil && c.N != int64(events) {
				err = fmt.Errorf("counted %d events, want %d", c.N, events)
			}
			if err != nil {
				return fmt.Errorf("W6: projection: %w", err)
			}
			return nil
		}
		timeEach := func(opts ...batpak.ProjectOption) (float64, error) {
			start := time.Now()
			for range projections {
				if err := project(opts...); err != nil {
					return 0, err
				}
			}
			return float64(time.Since(start)) / float64(time.Millisecond) / float64(projections), nil
		}
		for range max(1, projections/10) { // warm the read path, as b.Loop would
			if err := project(); err != nil {
				return err
			}
		}
		var err error
		if noCache, err = timeEach(); err != nil {
			return err
		}
		cache := batpak.FromCache(projector.NewMemoryCache(16))
		if err := project(cache); err != nil { // fills the cache
			return err
		}
		cached, err = timeEach(cache)
		return err
	}, nil)
	if err != nil {
		return nil, err
	}
	return []Figure{
		{"W6", "ms_nocache", noCache, "ms"},
		{"W6", "ms_cached", cached, "ms"},
	}, nil
}

// submitRange appends events [from, from+n) of the common shape with
// pipelined submission: every Submit first, then every Wait.
func submitRange(ctx context.Context, s *batpak.Store, from, n int) error {
	tickets := make([]batpak.Ticket, 0, n)
	for i := from; i < from+n; i++ {
		t, err := s.Submit(ctx, CoordOf(i), Kind, PayloadOf(i), batpak.AppendOptions{})
		if err != nil {
			return fmt.Errorf("submit %d: %w", i, err)
		}
		tickets = append(tickets, t)
	}
	for i, t := range tickets {
		if _, err := t.Wait(ctx); err != nil {
			return fmt.Errorf("wait %d: %w", from+i, err)
		}
	}
	return nil
}

// perConsumer returns the median and the slowest of events/elapsed over
// the consumers.
func perConsumer(events int, elapsed []time.Duration) (median, slowest float64) {
	rates := make([]float64, len(elapsed))
	for i, d := range elapsed {
		rates[i] = Rate(events, d)
	}
	slices.Sort(rates)
	return rates[len(rates)/2], rates[0]
}

// firstError keeps the first error of several goroutines.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) set(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// runW7 subscribes 16 lossy subscriptions to all events, each drained by
// its own goroutine, then appends the events with pipelined submission,
// acknowledged on write. It reports the events per second each subscriber
// received (the median and the slowest, from the first append to its last
// event) and the notifications lost in all. The buffers are as large as
// the run, as W7 asks: nothing should be lost.
func runW7(ctx context.Context, env *Env) ([]Figure, error) {
	events := env.N(100_000, 100)
	ctx, cancel := context.WithTimeout(ctx, liveDeadline)
	defer cancel()
	elapsed := make([]time.Duration, LiveSubscribers)
	var lost int64
	err := env.WithStore("W7", onWrite(), func(s *batpak.Store) error {
		subs := make([]batpak.Subscription, LiveSubscribers)
		for k := range subs {
			l, err := s.Subscribe(event.AllEvents(), events)
			if err != nil {
				return fmt.Errorf("W7: subscribe: %w", err)
			}
			defer l.Close()
			subs[k] = l
		}
		var (
			wg    sync.WaitGroup
			fail  firstError
			start = make(chan time.Time)
		)
		for k, l := range subs {
			wg.Go(func() {
				t0 := <-start
				for got := 0; got+int(l.Dropped()) < events; got++ {
					n, err := l.Recv(ctx)
					if err != nil {
						fail.set(fmt.Errorf("W7: subscriber %d after %d events: %w", k, got, err))
						cancel()
						return
					}
					if n.Global < uint64(got+1) {
						fail.set(fmt.Errorf("W7: subscriber %d: event %d has global %d", k, got, n.Global))
						cancel()
						return
					}
				}
				elapsed[k] = time.Since(t0)
			})
		}
		t0 := time.Now()
		for range subs {
			start <- t0
		}
		err := submitRange(ctx, s, 0, events)
		if err != nil {
			cancel() // the subscribers would wait for events never appended
		}
		wg.Wait()
		if err = errors.Join(err, fail.get()); err != nil {
			return fmt.Errorf("W7: %w", err)
		}
		for _, l := range subs {
			lost += int64(l.Dropped())
		}
		return nil
	}, nil)
	if err != nil {
		return nil, err
	}
	med, slowest := perConsumer(events, elapsed)
	return []Figure{
		{"W7", "events_per_sec", med, "events/s"},
		{"W7", "events_per_sec_slowest", slowest, "events/s"},
		{"W7", "lost", float64(lost), "events"},
	}, nil
}

// runW8 writes a history of events (durable, in atomic batches), opens 16
// cursors from position 0, and has each read everything with NextBatch
// while as many events again are appended with pipelined submission. It
// reports the events per second each cursor read over the whole run (the
// median and the slowest), the median rate while it caught up with the
// history, and the gaps in all: events a cursor skipped or repeated.
func runW8(ctx context.Context, env *Env) ([]Figure, error) {
	history := env.N(100_000, 100)
	var figs []Figure
	err := env.WithStore("W8", nil, func(s *batpak.Store) (err error) {
		if _, err := fill(ctx, s, history); err != nil {
			return fmt.Errorf("W8: writing the history: %w", err)
		}
		figs, err = CursorRace(ctx, s, LiveSubscribers, history, func(ctx context.Context) error {
			return submitRange(ctx, s, history, history)
		})
		return err
	}, nil)
	return figs, err
}
