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
