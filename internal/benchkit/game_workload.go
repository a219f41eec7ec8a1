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
	"github.com/batpak-go/batpak/spatial"
)

// W9: game ticks. A thousand players in a zone of 32×32 chunks (about one
// a chunk, so nine in an area of interest), each acting every tick: one
// event a player, filed under the chunk it is in, and the clock's event
// last (expecting the clock's sequence: a tick is written once), all one
// durable atomic batch. Every player has an area-of-interest feed
// (spatial.Interest) on the 3×3 chunks around it, which follows it when it
// crosses a border (about 2% of the players a tick) and is drained by a
// goroutine of its own, as a server sends what happens near each player.
// First at 20 Hz — does the tick rate hold, and how long does a tick's
// commit take (p50/p99, beside the raw fsync time of W0) — then
// unthrottled: the most ticks a second, as events per second against W3's
// plain batches in the same run (a tick should cost no more than a batch).
const (
	w9Players  = 1000
	w9Grid     = 32 // chunks a side
	w9Chunk    = 64 // units a chunk side; players step at most one unit an axis a tick
	w9Hz       = 20
	w9Capacity = 1024 // each feed's buffer: dozens of ticks of its area
)

func init() {
	for k, t := range map[[2]string]Target{
		{"W9", "ticks_per_sec"}: {Value: 0.99 * w9Hz},
		{"W9", "p99_us"}:        {AtMost: true, Value: 5000},
		{"W9", "lost"}:          {AtMost: true, Value: 0},
		{"W9", "w3_ratio"}:      {Value: 0.8},
	} {
		Targets[k] = t
	}
}

var w9Clock = event.MustCoordinate("clock:zone:1", "zone:1/clock")

// w9World is the simulated world: where each player is, its feed, and the
// batch the next tick fills.
type w9World struct {
	s       *batpak.Store
	rng     *rand.Rand
	players int
	x, y    []int               // by player
	coords  []batpak.Coordinate // by player: in its chunk
	feeds   []*w9Feed           // by player
	items   []batpak.BatchItem  // the next tick's
	ticks   uint64              // ticks committed
	last    uint64              // the last committed tick's clock event
	drained atomic.Int64        // notifications the feeds delivered
	wakec   chan struct{}       // buffered 1: a tick was committed
	stopc   chan struct{}       // closed to stop the drainer
	failed  firstError          // the drainer's
}

// w9Feed is a player's feed; the tick loop moves it, the drainer drains it.
type w9Feed struct {
	mu sync.Mutex
	f  *spatial.Interest
}

func (w *w9World) chunkOf(p int) spatial.Chunk {
	return spatial.At(1, w.x[p], w.y[p], w9Chunk)
}

// runW9 runs W9 on a fresh store.
func runW9(ctx context.Context, env *Env) ([]Figure, error) {
	players := env.N(w9Players, 50)
	slow, fast := env.N(100, 4), env.N(200, 8)
	ctx, cancel := context.WithTimeout(ctx, liveDeadline)
	defer cancel()
	var figs []Figure
	err := env.WithStore("W9", nil, func(s *batpak.Store) error {
		w := &w9World{s: s, rng: rand.New(rand.NewPCG(9, 9)), players: players,
			wakec: make(chan struct{}, 1), stopc: make(chan struct{})}
		defer w.close()
		if err := w.join(ctx); err != nil {
			return err
		}
		var drainer sync.WaitGroup
		drainer.Go(w.drainLoop)
		defer func() { close(w.stopc); drainer.Wait() }()
		if _, _, err := w.run(ctx, env.N(10, 2), 0); err != nil { // warm up
			return err
		}
		if err := w.sync(ctx); err != nil {
			return err
		}
		for _, phase := range []struct {
			ticks  int
			period time.Duration
			suffix string
		}{{slow, time.Second / w9Hz, ""}, {fast, 0, "_max"}} {
			before := w.drained.Load()
			lat, elapsed, err := w.run(ctx, phase.ticks, phase.period)
			if err != nil {
				return err
			}
			if err := w.sync(ctx); err != nil {
				return err
			}
			ticksPerSec := Rate(phase.ticks, elapsed)
			us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
			figs = append(figs,
				Figure{"W9", "ticks_per_sec" + phase.suffix, ticksPerSec, "ticks/s"},
				Figure{"W9", "p50_us" + phase.suffix, us(lat.Percentile(50)), "µs"},
				Figure{"W9", "p99_us" + phase.suffix, us(lat.Percentile(99)), "µs"},
				Figure{"W9", "deliveries_per_sec" + phase.suffix, Rate(int(w.drained.Load()-before), elapsed), "notifications/s"},
			)
			if phase.period == 0 {
				eps := ticksPerSec * float64(players)
				figs = append(figs, Figure{"W9", "events_per_sec", eps, "events/s"})
				if env.W3EventsPerSec > 0 {
					figs = append(figs, Figure{"W9", "w3_ratio", eps / env.W3EventsPerSec, "ratio"})
				}
			}
		}
		var lost uint64
		for _, f := range w.feeds {
			f.mu.Lock()
			lost += f.f.Dropped()
			f.mu.Unlock()
		}
		figs = append(figs, Figure{"W9", "lost", float64(lost), "notifications"})
		if env.FsyncsPerSec > 0 {
			figs = append(figs, Figure{"W9", "fsync_us", 1e6 / env.FsyncsPerSec, "µs"})
		}
		return w.failed.get()
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("W9: %w", err)
	}
	return figs, nil
}

// join places every player, appends their arrival as the first tick and
// opens their feeds.
func (w *w9World) join(ctx context.Context) error {
	side := w9Grid * w9Chunk
	w.x, w.y = make([]int, w.players), make([]int, w.players)
	w.coords, w.feeds = make([]batpak.Coordinate, w.players), make([]*w9Feed, w.players)
	for p := range w.players {
		w.x[p], w.y[p] = w.rng.IntN(side), w.rng.IntN(side)
		w.coords[p] = event.MustCoordinate(fmt.Sprintf("player:%d", p), w.chunkOf(p).Scope())
		f, err := spatial.Follow(w.s, w.chunkOf(p), 1, w9Capacity)
		if err != nil {
			return err
		}
		w.feeds[p] = &w9Feed{f: f}
	}
	_, _, err := w.run(ctx, 1, 0)
	return err
}

// run commits ticks, each at its slot of period (0: back to back), and
// returns each commit's latency and the time the ticks took: at least
// their slots, so a rate that keeps up is exactly the tick rate.
func (w *w9World) run(ctx context.Context, ticks int, period time.Duration) (Latencies, time.Duration, error) {
	lat := make(Latencies, 0, ticks)
	side := w9Grid * w9Chunk
	begin := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for i := range ticks {
		if wait := time.Until(begin.Add(time.Duration(i) * period)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return nil, 0, ctx.Err()
			}
		}
		w.items = w.items[:0]
		for p := range w.players {
			before := w.chunkOf(p)
			w.x[p] = min(max(w.x[p]+w.rng.IntN(3)-1, 0), side-1)
			w.y[p] = min(max(w.y[p]+w.rng.IntN(3)-1, 0), side-1)
			if after := w.chunkOf(p); after != before {
				w.coords[p] = event.MustCoordinate(w.coords[p].Entity(), after.Scope())
				f := w.feeds[p]
				f.mu.Lock()
				err := f.f.MoveTo(after)
				f.mu.Unlock()
				if err != nil {
					return nil, 0, err
				}
			}
			w.items = append(w.items, batpak.BatchItem{Coord: w.coords[p], Kind: Kind,
				Payload: map[string]int{"x": w.x[p], "y": w.y[p]}})
		}
		w.items = append(w.items, batpak.BatchItem{Coord: w9Clock, Kind: Kind,
			Payload: map[string]int{"x": int(w.ticks), "y": 0}, Options: event.Expect(w.ticks)})
		start := time.Now()
		rs, err := w.s.AppendBatch(ctx, w.items)
		if err != nil {
			return nil, 0, fmt.Errorf("tick %d: %w", w.ticks, err)
		}
		lat = append(lat, time.Since(start))
		w.ticks, w.last = w.ticks+1, rs[len(rs)-1].Global
		select {
		case w.wakec <- struct{}{}:
		default:
		}
	}
	return lat, max(time.Since(begin), time.Duration(ticks)*period), nil
}

// drainLoop drains every feed after each tick, until stopped.
func (w *w9World) drainLoop() {
	var scratch []event.Notification
	for {
		select {
		case <-w.wakec:
			var err error
			if scratch, err = w.drainAll(context.Background(), scratch); err != nil {
				w.failed.set(err)
				return
			}
		case <-w.stopc:
			return
		}
	}
}

// drainAll drains every feed, counting what each delivers while it holds
// the feed (so a drain that has returned has counted everything it took).
func (w *w9World) drainAll(ctx context.Context, scratch []event.Notification) ([]event.Notification, error) {
	for _, f := range w.feeds {
		f.mu.Lock()
		notes, err := f.f.Drain(ctx, scratch[:0])
		w.drained.Add(int64(len(notes)))
		f.mu.Unlock()
		if err != nil {
			return notes, err
		}
		scratch = notes
	}
	return scratch, nil
}

// sync waits until the store has offered every tick's notifications to
// the feeds — publications reach subscriptions in order, so a probe's
// notification of a later event proves it — and drains them, so a phase's
// deliveries are counted whole.
func (w *w9World) sync(ctx context.Context) error {
	probe, err := w.s.Subscribe(event.ForScope("w9:probe"), 1)
	if err != nil {
		return err
	}
	defer probe.Close()
	if _, err := w.s.Append(ctx, event.MustCoordinate("probe", "w9:probe"), Kind, nil); err != nil {
		return err
	}
	if _, err := probe.Recv(ctx); err != nil {
		return err
	}
	_, err = w.drainAll(ctx, nil)
	return errors.Join(err, w.failed.get())
}

func (w *w9World) close() {
	for _, f := range w.feeds {
		if f != nil {
			f.mu.Lock()
			_ = f.f.Close()
			f.mu.Unlock()
		}
	}
}
