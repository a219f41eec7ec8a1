package batpak

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

// The read benchmarks are W5 of BENCH.md on a store of readEvents events
// of the common shape, reported per operation and per event read, so a
// profile (go test -bench BenchmarkRead -cpuprofile) shows where a read's
// time goes.

const readEvents = 100_000

// readStore returns an on-write store holding readEvents events of the
// common shape, written in batches of 1,000, and their ids in order.
func readStore(b *testing.B) (*Store, []ID) {
	b.Helper()
	s := openBench(b, WithDurability(OnWrite), WithSyncEvery(1000, 100*time.Millisecond))
	ctx := context.Background()
	ids := make([]ID, 0, readEvents)
	items := make([]BatchItem, 0, 1000)
	for i := 0; i < readEvents; {
		items = items[:0]
		for ; i < readEvents && len(items) < cap(items); i++ {
			items = append(items, BatchItem{Coord: benchCoords[i%len(benchCoords)], Kind: benchKind, Payload: benchPayload(i)})
		}
		rs, err := s.AppendBatch(ctx, items)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range rs {
			ids = append(ids, r.ID)
		}
	}
	return s, ids
}

// BenchmarkReadGet is W5's point reads: Get by id in random order.
func BenchmarkReadGet(b *testing.B) {
	s, ids := readStore(b)
	ctx := context.Background()
	order := rand.New(rand.NewPCG(4, 5)).Perm(len(ids))
	b.ReportAllocs()
	defer reportCPU(b, 1)()
	i := 0
	for b.Loop() {
		id := ids[order[i%len(order)]]
		ev, err := s.Get(ctx, id)
		if err != nil || ev.ID != id {
			b.Fatalf("get %v: %v, %v", id, ev, err)
		}
		i++
	}
}

// BenchmarkReadStream is W5's entity streams: one op reads one entity's
// 100 events in full.
func BenchmarkReadStream(b *testing.B) {
	s, _ := readStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	defer reportCPU(b, 100)()
	i, events := 0, 0
	for b.Loop() {
		for _, err := range s.Stream(ctx, benchCoords[i%len(benchCoords)].Entity()) {
			if err != nil {
				b.Fatal(err)
			}
			events++
		}
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
}

// BenchmarkReadScope is W5's scope queries: one op reads one scope's
// 10,000 events in full.
func BenchmarkReadScope(b *testing.B) {
	s, _ := readStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	defer reportCPU(b, readEvents/10)()
	i, events := 0, 0
	for b.Loop() {
		for _, err := range s.ByScope(ctx, benchCoords[i%10].Scope()) {
			if err != nil {
				b.Fatal(err)
			}
			events++
		}
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
}

// reportCPU reports the process's CPU time per event read (perOp events
// an op) when the returned function runs: on a shared machine it varies
// less than the clock, which counts the time spent waiting for a CPU.
func reportCPU(b *testing.B, perOp int) func() {
	start := processCPU()
	return func() {
		b.ReportMetric(float64((processCPU()-start).Nanoseconds())/float64(b.N*perOp), "cpu-ns/event")
	}
}
