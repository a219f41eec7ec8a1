package index

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
)

// world publishes events as (entity, scope, kind) triples, in order, and
// returns them with their global sequences (1, 2, …).
type worldEvent struct {
	entity, scope string
	kind          event.EventKind
	global, seq   uint64
}

func publishWorld(x *Index, evs []worldEvent) []worldEvent {
	next := map[string]uint64{}
	ps := make([]Pending, len(evs))
	base := uint64(x.Len())
	for i := range evs {
		evs[i].global = base + uint64(i) + 1
		evs[i].seq = next[evs[i].entity]
		next[evs[i].entity]++
		ps[i] = Pending{ID: event.NewID(), Entity: evs[i].entity, Scope: evs[i].scope, Kind: evs[i].kind,
			Global: evs[i].global, Sequence: evs[i].seq, Segment: 1, Offset: uint32(i * 100), Size: 100}
	}
	x.Publish(ps)
	return evs
}

// expect is what a linear filter over every event says r matches after after.
func expect(evs []worldEvent, r event.Region, after uint64) []uint64 {
	var out []uint64
	for _, e := range evs {
		c := event.MustCoordinate(e.entity, e.scope)
		if e.global > after && r.Matches(c, e.kind, e.seq) {
			out = append(out, e.global)
		}
	}
	return out
}

func chunkScope(zone, x, y int) string { return fmt.Sprintf("zone:%d/%d,%d", zone, x, y) }

func randomWorld(n int, rng *rand.Rand) []worldEvent {
	evs := make([]worldEvent, n)
	for i := range evs {
		kind := kindA
		if rng.IntN(3) == 0 {
			kind = kindB
		}
		evs[i] = worldEvent{
			entity: fmt.Sprintf("player:%d", rng.IntN(20)),
			scope:  chunkScope(1+rng.IntN(11), rng.IntN(4), rng.IntN(4)),
			kind:   kind,
		}
	}
	return evs
}

func TestScopePrefixesAndSetsAgreeWithAFilterOverEveryEvent(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := New()
	evs := publishWorld(x, randomWorld(3000, rng))
	regions := []event.Region{
		event.ForScope("zone:1/*"),
		event.ForScope("zone:1*"), // zone:1, zone:10, zone:11
		event.ForScopes(chunkScope(2, 0, 0), chunkScope(2, 0, 1), chunkScope(2, 1, 0), chunkScope(2, 1, 1)),
		event.ForScopes(chunkScope(3, 3, 3), "zone:5/*", "no such scope"),
		event.ForScopes("zone:4/*").WithKind(kindB),
		event.ForScope("zone:6/*").WithEntity("player:3"),
		event.ForScopes(chunkScope(7, 0, 0), chunkScope(7, 1, 1)).WithEntity("player:1*"),
		event.ForScopes(chunkScope(8, 0, 0), chunkScope(8, 2, 2)).WithEntity("player:4").WithSequence(10, 120),
		event.ForScopes(),
		event.ForScope("nowhere/*"),
	}
	for _, r := range regions {
		for _, after := range []uint64{0, 1, 777, 2999, 3000} {
			assert.Equal(t, expect(evs, r, after), globals(x.Query(r, after)), "%+v after %d", r, after)
		}
	}
}

func TestScopeSetReadsNoEntryOfAnotherScope(t *testing.T) {
	// 20,000 events elsewhere, 9 chunks of interest with 30 events in all:
	// the scan looks at those 30 entries and no other.
	x := New()
	var evs []worldEvent
	for i := range 20_000 {
		evs = append(evs, worldEvent{entity: fmt.Sprintf("npc:%d", i%50), scope: chunkScope(2, i%40, i/40%40), kind: kindA})
		if i%700 == 0 {
			evs = append(evs, worldEvent{entity: "player:1", scope: chunkScope(1, i%3, i/3%3), kind: kindA})
		}
	}
	evs = publishWorld(x, evs)
	var around []string
	for dx := range 3 {
		for dy := range 3 {
			around = append(around, chunkScope(1, dx, dy))
		}
	}
	for _, r := range []event.Region{event.ForScopes(around...), event.ForScope("zone:1/*")} {
		want := expect(evs, r, 0)
		require.Len(t, want, 29)
		sc := x.Scan(r, 0)
		var got []uint64
		var buf [7]Entry
		for n := sc.Next(buf[:]); n > 0; n = sc.Next(buf[:]) {
			for _, e := range buf[:n] {
				got = append(got, e.Global)
			}
		}
		assert.Equal(t, want, got)
		assert.Equal(t, len(want), sc.examined, "entries looked at for %+v", r)
	}
}

func TestScopePrefixSeesScopesInternedAfterTheOrderWasBuilt(t *testing.T) {
	x := New()
	var evs []worldEvent
	add := func(from, n int) {
		batch := make([]worldEvent, n)
		for i := range batch {
			batch[i] = worldEvent{entity: "e", scope: fmt.Sprintf("zone:%d/%d", (from+i)%3, from+i), kind: kindA}
		}
		evs = append(evs, publishWorld(x, batch)...)
	}
	r := event.ForScope("zone:1/*")
	add(0, 100)
	assert.Equal(t, expect(evs, r, 0), globals(x.Query(r, 0)), "the first lookup builds the order")
	add(100, 50)
	assert.Equal(t, expect(evs, r, 0), globals(x.Query(r, 0)), "a short tail is matched one by one")
	add(150, orderTail*2)
	assert.Equal(t, expect(evs, r, 0), globals(x.Query(r, 0)), "a long tail is merged into the order")
	assert.Len(t, x.order().nums, 150+orderTail*2)
}

func TestScopeSetOfAnEntityStreamChecksEachEntrysScope(t *testing.T) {
	x := New()
	evs := publishWorld(x, []worldEvent{
		{entity: "p", scope: "a", kind: kindA}, {entity: "p", scope: "b", kind: kindA},
		{entity: "q", scope: "a", kind: kindA}, {entity: "p", scope: "c", kind: kindA},
		{entity: "p", scope: "a", kind: kindB},
	})
	for _, r := range []event.Region{
		event.ForEntity("p").WithScopes("a", "c"),
		event.ForEntity("p").WithScope("b"),
		event.ForEntity("p").WithScope("*"),
		event.ForEntity("p").WithScopes("x", "y"),
		event.ForEntity("p").WithScopes(),
	} {
		assert.Equal(t, expect(evs, r, 0), globals(x.Query(r, 0)), "%+v", r)
	}
}

func BenchmarkScanScopeSet(b *testing.B) {
	x := New()
	var evs []worldEvent
	for i := range 100_000 {
		evs = append(evs, worldEvent{entity: fmt.Sprintf("p%d", i%1000), scope: chunkScope(1, i%32, i/32%32), kind: kindA})
	}
	publishWorld(x, evs)
	var around []string
	for dx := range 3 {
		for dy := range 3 {
			around = append(around, chunkScope(1, 10+dx, 10+dy))
		}
	}
	r := event.ForScopes(around...)
	var buf [256]Entry
	for b.Loop() {
		sc := x.Scan(r, 0)
		for sc.Next(buf[:]) > 0 {
		}
	}
}
