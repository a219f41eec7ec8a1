package index

import (
	"fmt"
	"testing"

	"github.com/batpak-go/batpak/event"
)

// BenchmarkPublishOne is the on-write path's cost per event: one Publish
// of one entry, over 1000 entities and 10 scopes.
func BenchmarkPublishOne(b *testing.B) {
	x := New()
	ents := make([]string, 1000)
	for i := range ents {
		ents[i] = fmt.Sprintf("player:%d", i)
	}
	g := event.NewGenerator(event.ID{})
	ps := make([]Pending, 1)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ps[0] = Pending{ID: g.Next(int64(i)), Entity: ents[i%1000], Scope: ents[i%10], Kind: 1,
			Global: uint64(i + 1), Sequence: uint64(i / 1000), Segment: 1, Offset: uint32(i), Size: 100}
		x.Publish(ps)
		i++
	}
}

// benchIndex is W5's index: n events over 1,000 entities and 10 scopes.
func benchIndex(n int) *Index {
	x := New()
	g := event.NewGenerator(event.ID{})
	ps := make([]Pending, 0, n)
	for i := range n {
		ps = append(ps, Pending{ID: g.Next(int64(i)), Entity: fmt.Sprintf("player:%d", i%1000), Scope: fmt.Sprintf("room:%d", i%10),
			Kind: 1, Global: uint64(i + 1), Sequence: uint64(i / 1000), Segment: 1, Offset: uint32(i * 100), Size: 100,
			Position: event.Position{WallMS: uint64(i)}})
	}
	x.Publish(ps)
	return x
}

// BenchmarkScanHeaders is W5h below the facade: the index's share of a
// header read (a stream of 100 headers, a scope of 10,000), per header.
func BenchmarkScanHeaders(b *testing.B) {
	x := benchIndex(100_000)
	for _, tc := range []struct {
		name string
		r    func(i int) event.Region
		per  int
	}{
		{"stream", func(i int) event.Region { return event.ForEntity(fmt.Sprintf("player:%d", i%1000)) }, 100},
		{"scope", func(i int) event.Region { return event.ForScope(fmt.Sprintf("room:%d", i%10)) }, 10_000},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var buf [64]event.IndexHeader
			i, got := 0, 0
			for b.Loop() {
				hs := x.ScanHeaders(tc.r(i), 0)
				for n := hs.Next(buf[:]); n > 0; n = hs.Next(buf[:]) {
					got += n
				}
				i++
			}
			if got != i*tc.per {
				b.Fatalf("%d headers, want %d", got, i*tc.per)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(got), "ns/header")
		})
	}
}
