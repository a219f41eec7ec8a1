package batpak

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// BenchmarkOpenCheckpoint is W4's open with the checkpoint: one op opens
// and closes a store of openEvents events (written once, before the
// timer). BATPAK_BENCH_W4_DIR names a directory to keep the store in
// across runs; without it the store is written to a temporary directory.
// Each open starts from a heap handed back to the operating system, as
// W4 does, and resident bytes per event are reported.
func BenchmarkOpenCheckpoint(b *testing.B) {
	const openEvents = 1_000_000
	dir := os.Getenv("BATPAK_BENCH_W4_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	if s, err := Open(dir, WithDurability(OnWrite)); err != nil {
		b.Fatal(err)
	} else {
		if n := s.Stats().Events; n < openEvents {
			items := make([]BatchItem, 1000)
			for i := n; i < openEvents; i += len(items) {
				for j := range items {
					items[j] = BatchItem{Coord: benchCoords[(i+j)%len(benchCoords)], Kind: benchKind, Payload: benchPayload(i + j)}
				}
				if _, err := s.AppendBatch(context.Background(), items); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
	var grown float64
	var cpu time.Duration // the process's CPU time in the opens: less noisy than the clock on a shared machine
	for b.Loop() {
		b.StopTimer()
		var before, after runtime.MemStats
		debug.FreeOSMemory()
		runtime.ReadMemStats(&before)
		c0 := processCPU()
		b.StartTimer()
		s, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += processCPU() - c0
		if !s.Stats().Recovery.Checkpoint {
			b.Fatalf("open did not use the checkpoint: %s", s.Stats().Recovery)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		grown = float64(int64(after.HeapInuse)-int64(before.HeapInuse)) / float64(s.Stats().Events)
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(grown, "heapB/event")
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
}
