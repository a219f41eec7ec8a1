package index

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/batpak-go/batpak/event"
)

// BenchmarkLookupID looks ids up in random order with the fences, and
// (plain) with a search of the ids alone, for comparison.
func BenchmarkLookupID(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		x := New()
		ids := make([]event.ID, 0, n)
		for i := 0; i < n; i += 4096 {
			ps := fill(x, i, min(4096, n-i))
			for _, p := range ps {
				ids = append(ids, p.ID)
			}
		}
		order := rand.New(rand.NewPCG(1, 2)).Perm(n)
		b.Run(fmt.Sprintf("fences/%d", n), func(b *testing.B) {
			v := x.ids.snapshot()
			i := 0
			for b.Loop() {
				id := ids[order[i%n]]
				if j := v.search(id); *v.ids.at(j) != id {
					b.Fatal("not found")
				}
				i++
			}
		})
		b.Run(fmt.Sprintf("plain/%d", n), func(b *testing.B) {
			v := x.ids.view()
			i := 0
			for b.Loop() {
				id := ids[order[i%n]]
				if j := searchIDs(v, id); *v.at(j) != id {
					b.Fatal("not found")
				}
				i++
			}
		})
	}
}
