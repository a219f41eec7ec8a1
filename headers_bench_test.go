package batpak

import (
	"context"
	"testing"

	"github.com/batpak-go/batpak/event"
)

// The header benchmarks are W5h of BENCH.md: W5's entity streams and
// scope queries (read_bench_test.go's store), metadata only.

// BenchmarkHeadersStream is W5h's entity streams: one op reads one
// entity's 100 headers.
func BenchmarkHeadersStream(b *testing.B) {
	s, _ := readStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	defer reportCPU(b, 100)()
	i, headers := 0, 0
	for b.Loop() {
		for _, err := range s.StreamHeaders(ctx, benchCoords[i%len(benchCoords)].Entity()) {
			if err != nil {
				b.Fatal(err)
			}
			headers++
		}
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(headers), "ns/header")
}

// BenchmarkHeadersScope is W5h's scope queries: one op reads one scope's
// 10,000 headers.
func BenchmarkHeadersScope(b *testing.B) {
	s, _ := readStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	defer reportCPU(b, readEvents/10)()
	i, headers := 0, 0
	for b.Loop() {
		for _, err := range s.QueryHeaders(ctx, event.ForScope(benchCoords[i%10].Scope())) {
			if err != nil {
				b.Fatal(err)
			}
			headers++
		}
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(headers), "ns/header")
}
