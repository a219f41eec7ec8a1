package batpak_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// w7Submit appends events [from, from+n) of the common shape with
// pipelined submission (Submit, then Wait for every ticket).
func w7Submit(b testing.TB, ctx context.Context, s *batpak.Store, from, n int) {
	tickets := make([]batpak.Ticket, 0, n)
	for i := from; i < from+n; i++ {
		tk, err := s.Submit(ctx, w7Coords[i%1000], w7Kind, map[string]int{"x": i, "y": 2 * i}, batpak.AppendOptions{})
		if err != nil {
			b.Fatal(err)
		}
		tickets = append(tickets, tk)
	}
	for _, tk := range tickets {
		if _, err := tk.Wait(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// w7Rates reports the median and the slowest of per-consumer rates.
func w7Rates(b *testing.B, unit string, events int, elapsed []time.Duration) {
	rates := make([]float64, len(elapsed))
	for i, d := range elapsed {
		rates[i] = float64(events) / d.Seconds()
	}
	slices.Sort(rates)
	b.ReportMetric(rates[len(rates)/2], unit)
	b.ReportMetric(rates[0], "slowest_"+unit)
}

func benchW7(b *testing.B, subs int, opts ...batpak.Option) {
	events := b.N
	ctx := context.Background()
	s, err := batpak.Open(b.TempDir(), append([]batpak.Option{subQuiet}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	elapsed := make([]time.Duration, subs)
	ls := make([]batpak.Subscription, subs)
	var wg sync.WaitGroup
	start := make(chan time.Time)
	for k := range subs {
		// A capacity large enough that nothing is lost, as W7 asks; the
		// buffer costs memory only for what it holds.
		ls[k], err = s.Subscribe(event.AllEvents(), max(events, 1))
		if err != nil {
			b.Fatal(err)
		}
		wg.Go(func() {
			t0 := <-start
			for i := range events {
				n, err := ls[k].Recv(ctx)
				if err != nil || n.Global != uint64(i+1) {
					b.Errorf("subscriber %d: event %d: global %d, %v", k, i, n.Global, err)
					return
				}
			}
			elapsed[k] = time.Since(t0)
		})
	}
	b.ResetTimer()
	t0 := time.Now()
	for range subs {
		start <- t0
	}
	w7Submit(b, ctx, s, 0, events)
	produced := time.Since(t0)
	wg.Wait()
	b.StopTimer()
	var lost uint64
	for _, l := range ls {
		lost += l.Dropped()
	}
	b.ReportMetric(float64(events)/produced.Seconds(), "appended_events/s")
	if subs > 0 {
		w7Rates(b, "events/s/sub", events, elapsed)
		b.ReportMetric(float64(lost), "lost")
	}
}

// BenchmarkW7 is W7: 16 lossy subscriptions on all events, each drained by
// its own goroutine, while b.N events are appended with pipelined
// submission; events/s delivered per subscriber and events lost. The
// reference is the same appends with no subscription.
func BenchmarkW7(b *testing.B) {
	onWrite := []batpak.Option{batpak.WithDurability(batpak.OnWrite), batpak.WithSyncEvery(1000, 100*time.Millisecond)}
	b.Run("durable", func(b *testing.B) { benchW7(b, 16) })
	b.Run("durable-reference", func(b *testing.B) { benchW7(b, 0) })
	b.Run("onwrite", func(b *testing.B) { benchW7(b, 16, onWrite...) })
	b.Run("onwrite-reference", func(b *testing.B) { benchW7(b, 0, onWrite...) })
}

// BenchmarkW8 is W8: 16 cursors from position 0 over a store of b.N/2
// events while b.N/2 more are appended; events/s per cursor over all b.N,
// events/s while catching up with the history, and gaps.
func BenchmarkW8(b *testing.B) {
	const cursors = 16
	history := b.N / 2
	live := b.N - history
	ctx := context.Background()
	s, err := batpak.Open(b.TempDir(), subQuiet)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	w7Submit(b, ctx, s, 0, history)
	total, catchUp := make([]time.Duration, cursors), make([]time.Duration, cursors)
	var wg sync.WaitGroup
	var gaps atomic.Int64
	start := make(chan time.Time)
	for k := range cursors {
		c, err := s.Cursor(event.AllEvents(), 0)
		if err != nil {
			b.Fatal(err)
		}
		wg.Go(func() {
			defer c.Close()
			t0 := <-start
			next := uint64(1)
			for next <= uint64(b.N) {
				evs, err := c.NextBatch(ctx, 1024)
				if err != nil {
					b.Errorf("cursor %d: %v", k, err)
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
			total[k] = time.Since(t0)
		})
	}
	b.ResetTimer()
	t0 := time.Now()
	for range cursors {
		start <- t0
	}
	w7Submit(b, ctx, s, history, live)
	wg.Wait()
	b.StopTimer()
	w7Rates(b, "events/s/cursor", b.N, total)
	if history > 0 {
		w7Rates(b, "catchup_events/s/cursor", history, catchUp)
	}
	b.ReportMetric(float64(gaps.Load()), "gaps")
}
