package subscriber

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
)

// A mixed publication: events in chunks of two zones, two kinds.
func mixedPublication(f *fakeLog, rng *rand.Rand, n int) []event.Notification {
	var notes []event.Notification
	for range n {
		kind := kindA
		if rng.IntN(4) == 0 {
			kind = kindB
		}
		scope := fmt.Sprintf("zone:%d/%d,%d", 1+rng.IntN(2), rng.IntN(3), rng.IntN(3))
		notes = append(notes, f.commit(1, fmt.Sprintf("p%d", rng.IntN(5)), scope, kind)...)
	}
	return notes
}

func TestTableScopedSubscriptionsGetWhatTheirRegionsMatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	f := newFakeLog()
	var tb table
	regions := []event.Region{
		event.ForScopes("zone:1/0,0", "zone:1/0,1", "zone:1/1,1"),
		event.ForScopes("zone:1/0,0", "zone:2/2,2").WithKind(kindB),
		event.ForScope("zone:2/1,1").WithEntity("p1"),
		event.ForScope("zone:2/*"), // a prefix: matched note by note
		event.ForScopes("zone:1/2,2", "zone:2/*"),
		event.ForScopes(),
		event.AllEvents(),
	}
	subs := make([]*Lossy, len(regions))
	for i, r := range regions {
		subs[i] = bareLossy(r, 1<<20, 0)
		tb.add(subs[i])
	}
	assert.Len(t, tb.general, 3, "prefixes and every-event subscriptions are matched note by note")
	var all []event.Notification
	for range 20 {
		notes := mixedPublication(f, rng, 1+rng.IntN(50))
		all = append(all, notes...)
		tb.deliver(pub(notes))
	}
	for i, r := range regions {
		want := []uint64{}
		for _, n := range all {
			if r.MatchesNotification(n) {
				want = append(want, n.Global)
			}
		}
		assert.Equal(t, want, globals(drain(subs[i])), "%+v", r)
		assert.Zero(t, subs[i].Dropped())
	}
}

func TestTableScopedSubscriptionCountsDropsAndIgnoresRedelivery(t *testing.T) {
	f := newFakeLog()
	var tb table
	l := bareLossy(event.ForScopes("a", "b"), 4, 0)
	tb.add(l)
	notes := append(f.commit(3, "p", "a", kindA), f.commit(2, "p", "c", kindA)...)
	notes = append(notes, f.commit(3, "p", "b", kindA)...)
	// A crash in an earlier delivery left scratch behind.
	l.pend, l.want = append(l.pend, span{pub(notes), 0, 8}), 8
	tb.touched = append(tb.touched, l)
	tb.deliver(pub(notes))
	tb.deliver(pub(notes)) // a stale copy
	assert.Equal(t, []uint64{1, 2, 3, 6}, globals(drain(l)))
	assert.Equal(t, uint64(2), l.Dropped())
}

func TestTableRemovesScopedSubscriptions(t *testing.T) {
	f := newFakeLog()
	var tb table
	a := bareLossy(event.ForScopes("x", "y"), 10, 0)
	b := bareLossy(event.ForScope("x"), 10, 0)
	tb.add(a)
	tb.add(b)
	tb.remove(a)
	require.Len(t, tb.byScope["x"], 1)
	assert.NotContains(t, tb.byScope, "y")
	tb.deliver(pub(f.commit(2, "p", "x", kindA)))
	assert.Empty(t, drain(a))
	assert.Equal(t, []uint64{1, 2}, globals(drain(b)))
	tb.remove(b)
	assert.Empty(t, tb.byScope)
	assert.Empty(t, tb.subs)
}

func TestTableBackfillFindsScopedSubscriptionsByScope(t *testing.T) {
	f := newFakeLog()
	var tb table
	l := bareLossy(event.ForScopes("zone:1/0,0", "zone:1/0,1"), 100, 0)
	other := bareLossy(event.ForScope("zone:9/9,9"), 100, 0)
	tb.add(l)
	tb.add(other)
	f.commit(2, "p", "zone:1/0,0", kindA)
	f.commit(3, "p", "zone:1/5,5", kindA)
	f.commit(1, "p", "zone:1/0,1", kindA)
	tb.backfill(f.log(), 6) // the fan-out missed these notifications
	assert.Equal(t, []uint64{1, 2, 6}, globals(drain(l)))
	assert.Empty(t, drain(other))
	assert.Equal(t, int64(3), f.loads.Load(), "only the wanted events are loaded")
}

// BenchmarkTableAreasOfInterest is W9's fan-out: 1,000 subscriptions,
// each to the 3×3 chunks around one of 1,000 players in a 32×32 world,
// and a publication of one event per player.
func BenchmarkTableAreasOfInterest(b *testing.B) {
	f := newFakeLog()
	var tb table
	chunk := func(x, y int) string { return fmt.Sprintf("zone:1/%d,%d", x, y) }
	var notes []event.Notification
	for p := range 1000 {
		x, y := p%32, p/32
		var around []string
		for dx := -1; dx <= 1; dx++ {
			for dy := -1; dy <= 1; dy++ {
				around = append(around, chunk(x+dx, y+dy))
			}
		}
		tb.add(bareLossy(event.ForScopes(around...), 1<<20, 0))
		notes = append(notes, f.commit(1, fmt.Sprintf("player:%d", p), chunk(x, y), kindA)...)
	}
	for b.Loop() {
		for i := range notes {
			notes[i].Global += uint64(len(notes))
		}
		tb.deliver(pub(notes))
		for _, l := range tb.subs {
			l.mu.Lock()
			clear(l.q)
			l.q, l.head, l.n = l.q[:0], 0, 0
			l.mu.Unlock()
		}
	}
}

// Within one delivery, subscriptions are offered oldest first, scoped and
// general ones alike: a newer subscription never holds a notification an
// older one has not been offered yet.
func TestTableOffersOldestFirst(t *testing.T) {
	f := newFakeLog()
	var tb table
	var subs []*Lossy
	for i, r := range []event.Region{
		event.ForScope("a"), event.AllEvents(), event.ForScopes("a", "b"), event.ForScope("a*"),
		event.ForScope("b"), event.ForScope("a"), event.AllEvents(),
	} {
		subs = append(subs, bareLossy(r, 100, 0))
		tb.add(subs[i])
	}
	tb.remove(subs[1])
	var order []*Lossy
	tb.offered = func(l *Lossy) { order = append(order, l) }
	tb.deliver(pub(append(f.commit(1, "p", "b", kindA), f.commit(1, "p", "a", kindA)...)))
	assert.Equal(t, []*Lossy{subs[0], subs[2], subs[3], subs[4], subs[5], subs[6]}, order)
}
