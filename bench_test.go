package batpak

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batpak-go/batpak/event"
)

// The benchmarks follow BENCH.md's common shape: entity player:{i%1000},
// scope room:{i%10}, one custom kind, payload {"x": i, "y": 2*i}. The
// payload is built and encoded inside the loop, as a caller's would be, so
// allocs/op includes the encoding's own (see `batpak bench`, which also
// reports them net of it).

var (
	benchKind   = event.MustCustom(1, 1)
	benchCoords = func() []Coordinate {
		cs := make([]Coordinate, 1000)
		for i := range cs {
			cs[i] = event.MustCoordinate(fmt.Sprintf("player:%d", i), fmt.Sprintf("room:%d", i%10))
		}
		return cs
	}()
)

func benchPayload(i int) any { return map[string]int{"x": i, "y": 2 * i} }

// openBench opens a store in b.TempDir and closes it when b ends.
func openBench(b *testing.B, opts ...Option) *Store {
	b.Helper()
	s, err := Open(b.TempDir(), opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := s.Close(); err != nil {
			b.Error(err)
		}
	})
	return s
}

// onWriteOpts is W1's configuration: acknowledged on write, an fsync
// every 1,000 events.
func onWriteOpts() []Option {
	return []Option{WithDurability(OnWrite), WithSyncEvery(1000, 100*time.Millisecond)}
}

// BenchmarkAppendOnWrite is W1: blocking appends from one goroutine,
// acknowledged on write.
func BenchmarkAppendOnWrite(b *testing.B) {
	s := openBench(b, onWriteOpts()...)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.Append(ctx, benchCoords[i%len(benchCoords)], benchKind, benchPayload(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkAppendDurableParallel is W2: durable appends from about 8
// goroutines (whatever GOMAXPROCS is), each to its own entity, so
// concurrent writers share fsyncs.
func BenchmarkAppendDurableParallel(b *testing.B) {
	s := openBench(b)
	ctx := context.Background()
	var next atomic.Int64
	b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		coord := benchCoords[int(next.Add(1)-1)%len(benchCoords)]
		for i := 0; pb.Next(); i++ {
			if _, err := s.Append(ctx, coord, benchKind, benchPayload(i)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkSubmit is W1p in steady state: on-write appends submitted
// without waiting, with at most window tickets outstanding (W1p proper
// holds them all; a window keeps a long benchmark's memory bounded).
func BenchmarkSubmit(b *testing.B) {
	const window = 4096
	s := openBench(b, onWriteOpts()...)
	ctx := context.Background()
	tickets := make([]Ticket, window)
	wait := func(t Ticket) {
		if _, err := t.Wait(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		slot := i % window
		if t := tickets[slot]; t != nil {
			wait(t)
		}
		t, err := s.Submit(ctx, benchCoords[i%len(benchCoords)], benchKind, benchPayload(i), AppendOptions{})
		if err != nil {
			b.Fatal(err)
		}
		tickets[slot] = t
		i++
	}
	for _, t := range tickets { // counted: an append is done when acknowledged
		if t != nil {
			wait(t)
		}
	}
}

// BenchmarkAppendBatch256 is W3: one op is a durable atomic batch of 256
// events; events/s is reported alongside.
func BenchmarkAppendBatch256(b *testing.B) {
	const size = 256
	s := openBench(b)
	ctx := context.Background()
	items := make([]BatchItem, size)
	b.ReportAllocs()
	n := 0
	start := time.Now()
	for b.Loop() {
		for j := range items {
			items[j] = BatchItem{Coord: benchCoords[n%len(benchCoords)], Kind: benchKind, Payload: benchPayload(n)}
			n++
		}
		if _, err := s.AppendBatch(ctx, items); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
}
