package index

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
)

// Scan is Query in pull form: for every region, draining it with buffers
// of any size yields exactly the events a filter over every published
// event keeps, across chunk boundaries of every list and whether the
// region needs rules applied or not (the unfiltered loop copies runs).
func TestScanMatchesAFilterForAnyBuffer(t *testing.T) {
	x := New()
	ps := fill(x, 0, 3*chunkLen+17) // several chunks
	regions := []event.Region{
		event.AllEvents(), event.ForEntity("e2"), event.ForScope("s1"),
		event.AllEvents().WithKind(kindB), event.ForEntity("e3").WithSequence(5, 900),
		event.ForEntity("e1").WithSequence(0, chunkLen/4+3), event.ForEntity("e0").WithScope("s0"),
		event.AllEvents().WithEntityPrefix("e"), event.ForScope("nope"), event.ForScopes("s0", "s1"),
	}
	for _, r := range regions {
		for _, after := range []uint64{0, 1, 5000, chunkLen * 2} {
			var want []uint64
			for _, p := range ps {
				if p.Global > after && r.Matches(event.MustCoordinate(p.Entity, p.Scope), p.Kind, p.Sequence) {
					want = append(want, p.Global)
				}
			}
			require.Equal(t, want, globals(x.Query(r, after)), "%+v after %d: query", r, after)
			for _, size := range []int{1, 7, 64, 5000} {
				sc := x.Scan(r, after)
				var got []uint64
				buf := make([]Entry, size)
				for n := sc.Next(buf); n > 0; n = sc.Next(buf) {
					for _, e := range buf[:n] {
						got = append(got, e.Global)
					}
				}
				require.Equal(t, want, got, "%+v after %d, buffer %d", r, after, size)
			}
		}
	}
}

// The link cursor finds, for increasing positions, exactly the links a
// search of the whole list finds: dense and sparse links, gaps long and
// short, positions past the last link.
func TestLinkCursorFindsWhatASearchFinds(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, density := range []int{1, 2, 50, 5000} {
		var l chunked[link]
		has := map[uint32]bool{}
		for pos := uint32(0); pos < 3*chunkLen; pos++ {
			if rng.IntN(density) == 0 {
				l.push(link{pos: pos, cause: event.ID{byte(pos), byte(pos >> 8), 1}})
				has[pos] = true
			}
		}
		for _, step := range []int{1, 3, 1000} {
			c := linkCursor{v: l.view()}
			for pos := uint32(rng.IntN(step)); pos < 3*chunkLen+10; pos += uint32(1 + rng.IntN(step)) {
				got, ok := c.find(pos)
				require.Equal(t, has[pos], ok, "density %d, step %d, position %d", density, step, pos)
				if ok {
					require.Equal(t, pos, got.pos)
					require.Equal(t, event.ID{byte(pos), byte(pos >> 8), 1}, got.cause)
				}
			}
		}
	}
}

// lowerBound agrees with sort.Search over sorted ids, including runs of
// equal ids (an out-of-order id repeats its predecessor's slot).
func TestLowerBoundMatchesSortSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]event.ID, 500)
	for i := range ids {
		var id event.ID
		id[0], id[7], id[15] = byte(rng.IntN(4)), byte(rng.IntN(4)), byte(rng.IntN(256))
		ids[i] = id
	}
	slices.SortFunc(ids, func(a, b event.ID) int { return bytes.Compare(a[:], b[:]) })
	for range 2000 {
		probe := ids[rng.IntN(len(ids))]
		if rng.IntN(2) == 0 {
			probe[15] ^= byte(rng.IntN(256)) // often absent
		}
		want := sort.Search(len(ids), func(i int) bool { return ids[i].Compare(probe) >= 0 })
		if got := lowerBound(ids, probe); got != want {
			t.Fatalf("lowerBound(%v) = %d, sort.Search %d", probe, got, want)
		}
	}
}

// Names resolves every entry published before it was taken, as Coordinate
// does, including an entity seen in a scope other than its first.
func TestNamesResolveLikeCoordinate(t *testing.T) {
	x := New()
	x.Publish([]Pending{
		{ID: event.NewID(), Entity: "a", Scope: "s1", Kind: kindA, Global: 1},
		{ID: event.NewID(), Entity: "a", Scope: "s2", Kind: kindA, Global: 2, Sequence: 1},
		{ID: event.NewID(), Entity: "b", Scope: "s2", Kind: kindA, Global: 3},
		{ID: event.NewID(), Entity: "a", Scope: "s2", Kind: kindA, Global: 4, Sequence: 2},
	})
	names := x.Names()
	fill(x, 4, 10) // published after: not needed by the snapshot
	for e := range x.Query(event.AllEvents(), 0) {
		if e.Global > 4 {
			break
		}
		if got, want := names.Coordinate(&e), x.Coordinate(e); got != want {
			t.Fatalf("entry %d: names give %v, the index %v", e.Global, got, want)
		}
	}
}

// Previous finds the predecessor in the entry's own stream by number,
// and nothing for a first event or a gap.
func TestPrevious(t *testing.T) {
	x := New()
	fill(x, 0, 40)
	for e := range x.Query(event.AllEvents(), 0) {
		p, ok := x.Previous(e)
		want, wantOK := x.StreamEntry(x.EntityName(e.Entity), e.Sequence-1)
		if e.Sequence == 0 {
			want, wantOK = Entry{}, false
		}
		if ok != wantOK || p != want {
			t.Fatalf("Previous(%d) = %+v %v, want %+v %v", e.Global, p, ok, want, wantOK)
		}
	}
	// A gap in the sequence (as compaction leaves) has no predecessor.
	y := New()
	y.Publish([]Pending{
		{ID: event.NewID(), Entity: "a", Scope: "s", Kind: kindA, Global: 1, Sequence: 0},
		{ID: event.NewID(), Entity: "a", Scope: "s", Kind: kindA, Global: 2, Sequence: 5},
	})
	last, _ := y.Latest("a")
	if _, ok := y.Previous(last); ok {
		t.Fatal("Previous found a predecessor across a gap")
	}
}

// A restored index keeps growing like one built by publishing: its lists
// were reserved from shared storage (above 1 MiB not zeroed: 30,000
// entries), and pushes past it allocate as usual.
func TestRestoredIndexGrowsLikeAPublishedOne(t *testing.T) {
	for _, n := range []int{0, 5, chunkLen, 2*chunkLen + 10, 30_000} {
		x := New()
		fill(x, 0, n)
		y, _, err := UnmarshalCheckpoint(x.MarshalCheckpoint(Watermark{Segment: 1, Offset: 1, LastGlobal: uint64(n)}))
		if err != nil {
			t.Fatal(err)
		}
		more := fill(x, n, 3*chunkLen+3)
		y.Publish(more)
		if dump(x) != dump(y) {
			t.Fatalf("%d restored entries: the grown indexes answer differently", n)
		}
	}
}

// LookupID finds every id, and no absent one, whatever the size of the
// index (one small list, several chunks, fences at chunk edges), in a
// restored index too, and with out-of-order ids among them.
func TestLookupIDFindsEveryID(t *testing.T) {
	for _, n := range []int{1, 63, 64, 65, chunkLen, 2*chunkLen + 65} {
		x := New()
		ps := fill(x, 0, n)
		late := event.NewID()
		early := ps[0].ID
		early[15] ^= 1 // another id just beside the first: published out of order
		if early.Compare(ps[0].ID) > 0 {
			early[15] ^= 3
		}
		x.Publish([]Pending{
			{ID: late, Entity: "e0", Scope: "s0", Kind: kindA, Global: uint64(n + 1), Sequence: 1 << 40},
			{ID: early, Entity: "e1", Scope: "s0", Kind: kindA, Global: uint64(n + 2), Sequence: 1 << 41},
		})
		y, _, err := UnmarshalCheckpoint(x.MarshalCheckpoint(Watermark{Segment: 1, Offset: 1, LastGlobal: uint64(n + 2)}))
		if err != nil {
			t.Fatal(err)
		}
		for _, idx := range []*Index{x, y} {
			for i, p := range ps {
				if e, ok := idx.LookupID(p.ID); !ok || e.Global != uint64(i+1) {
					t.Fatalf("n=%d: id %d: %+v %v", n, i, e, ok)
				}
			}
			if e, ok := idx.LookupID(late); !ok || e.Global != uint64(n+1) {
				t.Fatalf("n=%d: the newest id: %+v %v", n, e, ok)
			}
			if e, ok := idx.LookupID(early); !ok || e.Global != uint64(n+2) {
				t.Fatalf("n=%d: the out-of-order id: %+v %v", n, e, ok)
			}
			for _, absent := range []event.ID{{}, event.NewID(), {0xff, 0xff}} {
				if _, ok := idx.LookupID(absent); ok {
					t.Fatalf("n=%d: found absent id %v", n, absent)
				}
			}
		}
	}
}

// LookupIDLinked gives every id's entry and the predecessor Previous
// finds by the stream, in an index published event by event, restored
// from its checkpoint, and rewritten with entries dropped (predecessors
// among them: then there is none) — including ids out of order, found
// through the overflow map.
func TestLookupIDLinkedAgreesWithPrevious(t *testing.T) {
	ps := linkedPendings(2*chunkLen + 99)
	x := New()
	for i := range ps {
		x.Publish(ps[i : i+1])
	}
	check := func(name string, x *Index, want []Pending) {
		t.Helper()
		linked := 0
		for _, p := range want {
			e, pe, hasPrev, ok := x.LookupIDLinked(p.ID)
			require.True(t, ok, "%s: %v", name, p.ID)
			require.Equal(t, p.Global, e.Global, "%s", name)
			wantPE, wantPrev := x.Previous(e)
			require.Equal(t, wantPrev, hasPrev, "%s: event %d", name, p.Global)
			require.Equal(t, wantPE, pe, "%s: event %d", name, p.Global)
			if hasPrev {
				linked++
			}
		}
		require.Positive(t, linked, "%s: some events have their predecessor", name)
		_, _, _, ok := x.LookupIDLinked(event.NewID())
		require.False(t, ok, "%s: an unknown id", name)
	}
	require.NotEmpty(t, x.overPos, "the pendings must hold ids out of order")
	check("published", x, ps)

	y, _, err := UnmarshalCheckpoint(x.MarshalCheckpoint(Watermark{Segment: 1, Offset: 1 << 20, LastGlobal: uint64(len(ps))}))
	require.NoError(t, err)
	check("restored", y, ps)

	var kept []Pending
	for i, p := range ps {
		if i%7 != 3 {
			kept = append(kept, p)
		}
	}
	y.Rewrite(func(e *Entry) bool { return (e.Global-1)%7 != 3 })
	check("rewritten", y, kept)
	check("rebuilt", y.Rebuilt(func(s uint32) uint32 { return s }), kept)
	// An event published after the rewrite links to the entity's last kept one.
	var last Pending
	for _, p := range kept {
		if p.Entity == "e0" {
			last = p
		}
	}
	next := Pending{ID: event.NewID(), Entity: "e0", Scope: "s0", Kind: kindA, Global: uint64(len(ps) + 1),
		Sequence: last.Sequence + 1, Segment: 1, Offset: 1 << 19, Size: 100}
	y.Publish([]Pending{next})
	_, pe, hasPrev, ok := y.LookupIDLinked(next.ID)
	require.True(t, ok && hasPrev)
	require.Equal(t, last.Global, pe.Global)
}
