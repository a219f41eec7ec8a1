package benchkit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// workloads written against the facade (batpak.EventStore) only, so any
// backend runs them: the JetStream backend's W1, W2, W3, W5 and W8. They
// have the shapes of BENCH.md's workloads; where a full-size run would
// take minutes over a network protocol, the sizes are noted on the
// workload's title.

// FacadeAppends times n blocking appends from one goroutine.
func FacadeAppends(ctx context.Context, s batpak.EventStore, id string, n int) ([]Figure, error) {
	lat := make(Latencies, n)
	start := time.Now()
	last := start
	for i := range n {
		if _, err := s.Append(ctx, CoordOf(i), Kind, PayloadOf(i)); err != nil {
			return nil, fmt.Errorf("%s: append %d: %w", id, i, err)
		}
		now := time.Now()
		lat[i], last = now.Sub(last), now
	}
	figs := []Figure{{id, "events_per_sec", Rate(n, last.Sub(start)), "events/s"}}
	return append(figs, lat.Figures(id)...), nil
}

// FacadeParallel times goroutines × per appends, each goroutine to its own
// entity, all released together.
func FacadeParallel(ctx context.Context, s batpak.EventStore, id string, goroutines, per int) ([]Figure, error) {
	lat := make(Latencies, goroutines*per)
	errs := make([]error, goroutines)
	startc := make(chan struct{})
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			<-startc
			coord, mine := CoordOf(g), lat[g*per:(g+1)*per]
			last := time.Now()
			for i := range per {
				if _, err := s.Append(ctx, coord, Kind, PayloadOf(i)); err != nil {
					errs[g] = fmt.Errorf("%s: goroutine %d, append %d: %w", id, g, i, err)
					return
				}
				now := time.Now()
				mine[i], last = now.Sub(last), now
			}
		})
	}
	start := time.Now()
	close(startc)
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	figs := []Figure{{id, "events_per_sec", Rate(goroutines*per, elapsed), "events/s"}}
	return append(figs, lat.Figures(id)...), nil
}

// FacadeBatches times batches atomic batches of size events, one after
// another.
func FacadeBatches(ctx context.Context, s batpak.EventStore, id string, batches, size int) ([]Figure, error) {
	items := make([]batpak.BatchItem, size)
	start := time.Now()
	for b := range batches {
		for j := range items {
			i := b*size + j
			items[j] = batpak.BatchItem{Coord: CoordOf(i), Kind: Kind, Payload: PayloadOf(i)}
		}
		if _, err := s.AppendBatch(ctx, items); err != nil {
			return nil, fmt.Errorf("%s: batch %d: %w", id, b, err)
		}
	}
	return []Figure{{id, "events_per_sec", Rate(batches*size, time.Since(start)), "events/s"}}, nil
}

// FacadeFill appends events [from, from+n) in atomic batches of up to 256
// and returns their ids.
func FacadeFill(ctx context.Context, s batpak.EventStore, from, n int) ([]batpak.ID, error) {
	const size = 256
	ids := make([]batpak.ID, 0, n)
	items := make([]batpak.BatchItem, 0, size)
	for i := from; i < from+n; {
		items = items[:0]
		for ; i < from+n && len(items) < size; i++ {
			items = append(items, batpak.BatchItem{Coord: CoordOf(i), Kind: Kind, Payload: PayloadOf(i)})
		}
		rs, err := s.AppendBatch(ctx, items)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			ids = append(ids, r.ID)
		}
	}
	return ids, nil
}

// FacadeReads is W5 over the facade: n events written, then gets of
// sampled ids in random order, full streams of every entity, and scope
// queries (scopes of n/10 events each).
func FacadeReads(ctx context.Context, s batpak.EventStore, n, gets, scopeQueries int) ([]Figure, error) {
	const entities, scopes = 1000, 10
	ids, err := FacadeFill(ctx, s, 0, n)
	if err != nil {
		return nil, fmt.Errorf("W5: writing %d events: %w", n, err)
	}
	rng := rand.New(rand.NewPCG(4, 5))
	start := time.Now()
	for range gets {
		id := ids[rng.IntN(n)]
		ev, err := s.Get(ctx, id)
		if err != nil || ev.ID != id {
			return nil, fmt.Errorf("W5: get %v: %v", id, err)
		}
	}
	getRate := Rate(gets, time.Since(start))
	count := func(seq func(yield func(*batpak.StoredEvent, error) bool)) (int, error) {
		total := 0
		for _, err := range seq {
			if err != nil {
				return total, err
			}
			total++
		}
		return total, nil
	}
	start = time.Now()
	read := 0
	for e := range min(entities, n) {
		c, err := count(s.Stream(ctx, coords[e].Entity()))
		if err != nil {
			return nil, fmt.Errorf("W5: stream: %w", err)
		}
		read += c
	}
	if read != n {
		return nil, fmt.Errorf("W5: streams read %d events, want %d", read, n)
	}
	streamRate := Rate(min(entities, n), time.Since(start))
	start = time.Now()
	read = 0
	for q := range scopeQueries {
		c, err := count(s.ByScope(ctx, coords[q%scopes].Scope()))
		if err != nil {
			return nil, fmt.Errorf("W5: scope query: %w", err)
		}
		read += c
	}
	if want := scopeEvents(n, scopes, scopeQueries); read != want {
		return nil, fmt.Errorf("W5: scope queries read %d events, want %d", read, want)
	}
	return []Figure{
		{"W5", "ops_per_sec_get", getRate, "gets/s"},
		{"W5", "ops_per_sec_stream", streamRate, "streams/s"},
		{"W5", "ops_per_sec_scope", Rate(scopeQueries, time.Since(start)), "queries/s"},
	}, nil
}

// FacadeCursors is W8 over the facade: cursors from 0 over history events
// read everything while as many again are appended (in batches).
func FacadeCursors(ctx context.Context, s batpak.EventStore, cursors, history int) ([]Figure, error) {
	if _, err := FacadeFill(ctx, s, 0, history); err != nil {
		return nil, fmt.Errorf("W8: writing the history: %w", err)
	}
	return CursorRace(ctx, s, cursors, history, func(ctx context.Context) error {
		_, err := FacadeFill(ctx, s, history, history)
		return err
	})
}

// CursorRace is the measured part of W8 on a fresh store holding history
// events: cursors from position 0 each read everything with NextBatch
// while appendLive appends as many again. It reports the events per second
// each cursor read over the whole run (median and slowest), the median
// rate while catching up with the history, and the gaps: events a cursor
// skipped or repeated.
func CursorRace(ctx context.Context, s batpak.EventStore, cursors, history int, appendLive func(context.Context) error) ([]Figure, error) {
	total := 2 * history
	ctx, cancel := context.WithTimeout(ctx, liveDeadline)
	defer cancel()
	elapsed, catchUp := make([]time.Duration, cursors), make([]time.Duration, cursors)
	var (
		gaps  atomic.Int64
		wg    sync.WaitGroup
		fail  firstError
		start = make(chan time.Time)
	)
	for k := range cursors {
		c, err := s.Cursor(event.AllEvents(), 0)
		if err != nil {
			close(start) // releases the cursors started so far
			wg.Wait()
			return nil, fmt.Errorf("W8: cursor: %w", err)
		}
		wg.Go(func() {
			defer c.Close()
			t0, ok := <-start
			if !ok {
				return
			}
			next := uint64(1) // the store is fresh: global sequences run 1, 2, …
			for next <= uint64(total) {
				evs, err := c.NextBatch(ctx, 1024)
				if err != nil {
					fail.set(fmt.Errorf("W8: cursor %d at %d: %w", k, next, err))
					cancel()
					return
				}
				for _, ev := range evs {
					if ev.Global != next {
						gaps.Add(1)
					}
					next = ev.Global + 1
				}
				if catchUp[k] == 0 && next > uint64(history) {
					catchUp[k] = time.Since(t0)
				}
			}
			elapsed[k] = time.Since(t0)
		})
	}
	t0 := time.Now()
	for range cursors {
		start <- t0
	}
	err := appendLive(ctx)
	if err != nil {
		cancel()
	}
	wg.Wait()
	if err = errors.Join(err, fail.get()); err != nil {
		return nil, fmt.Errorf("W8: %w", err)
	}
	med, slowest := perConsumer(total, elapsed)
	medCatchUp, _ := perConsumer(history, catchUp)
	return []Figure{
		{"W8", "events_per_sec", med, "events/s"},
		{"W8", "events_per_sec_slowest", slowest, "events/s"},
		{"W8", "events_per_sec_catchup", medCatchUp, "events/s"},
		{"W8", "gaps", float64(gaps.Load()), "events"},
	}, nil
}
