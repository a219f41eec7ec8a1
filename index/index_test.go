package index

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/batpak-go/batpak/event"
)

var kindA, kindB = event.MustCustom(1, 1), event.MustCustom(1, 2)

// fill publishes n events over entities e0..e3 and scopes s0..s1, kinds
// alternating, and returns their pending records.
func fill(x *Index, from, n int) []Pending {
	var ps []Pending
	next := map[string]uint64{}
	for i := from; i < from+n; i++ {
		entity := fmt.Sprintf("e%d", i%4)
		seq, ok := next[entity]
		if !ok {
			if last, found := x.Latest(entity); found {
				seq = last.Sequence + 1
			}
		}
		next[entity] = seq + 1
		kind := kindA
		if i%2 == 1 {
			kind = kindB
		}
		ps = append(ps, Pending{
			ID: event.NewID(), Entity: entity, Scope: fmt.Sprintf("s%d", i%2), Kind: kind,
			Global: uint64(i + 1), Sequence: seq, Segment: 1, Offset: uint32(i * 100), Size: 100,
		})
	}
	x.Publish(ps)
	return ps
}

func globals(seq func(func(Entry) bool)) []uint64 {
	var out []uint64
	for e := range seq {
		out = append(out, e.Global)
	}
	return out
}

func TestQueryPaths(t *testing.T) {
	x := New()
	fill(x, 0, 16)
	tests := []struct {
		name  string
		r     event.Region
		after uint64
		want  []uint64
	}{
		{"entity stream", event.ForEntity("e1"), 0, []uint64{2, 6, 10, 14}},
		{"entity after", event.ForEntity("e1"), 6, []uint64{10, 14}},
		{"entity sequence range", event.ForEntity("e1").WithSequence(1, 2), 0, []uint64{6, 10}},
		{"scope", event.ForScope("s0"), 10, []uint64{11, 13, 15}},
		{"kind", event.AllEvents().WithKind(kindB), 12, []uint64{14, 16}},
		{"prefix and scope", event.ForEntity("e*").WithScope("s1"), 12, []uint64{14, 16}},
		{"entity with other scope", event.ForEntity("e1").WithScope("s0"), 0, nil},
		{"unknown scope", event.ForScope("nope"), 0, nil},
		{"all after", event.AllEvents(), 14, []uint64{15, 16}},
	}
	for _, tc := range tests {
		if got := globals(x.Query(tc.r, tc.after)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestLookups(t *testing.T) {
	x := New()
	ps := fill(x, 0, 8)
	for _, p := range ps {
		e, ok := x.LookupID(p.ID)
		if !ok || e.Global != p.Global || x.EntityName(e.Entity) != p.Entity || x.ScopeName(e.Scope) != p.Scope {
			t.Fatalf("lookup %v: %+v %v", p.ID, e, ok)
		}
	}
	if e, ok := x.StreamEntry("e2", 1); !ok || e.Global != 7 {
		t.Fatalf("stream entry: %+v %v", e, ok)
	}
	if e, ok := x.Latest("e3"); !ok || e.Global != 8 {
		t.Fatalf("latest: %+v", e)
	}
	if _, ok := x.LookupID(event.NewID()); ok {
		t.Fatal("unknown id found")
	}
	if x.LastGlobal() != 8 || x.Len() != 8 {
		t.Fatal("counts")
	}
}

// TestOutOfOrderIDStillFound: an id below its predecessor (which only a
// damaged log could hold) is found, and so are the ids around it.
func TestOutOfOrderIDStillFound(t *testing.T) {
	x := New()
	a, b, c := event.ID{0, 1}, event.ID{0, 3}, event.ID{0, 2}
	x.Publish([]Pending{
		{ID: a, Entity: "e", Scope: "s", Global: 1},
		{ID: b, Entity: "e", Scope: "s", Global: 2, Sequence: 1},
		{ID: c, Entity: "e", Scope: "s", Global: 3, Sequence: 2},
	})
	for want, id := range []event.ID{a, b, c} {
		if e, ok := x.LookupID(id); !ok || e.Global != uint64(want+1) {
			t.Fatalf("id %v: %+v %v", id, e, ok)
		}
	}
}

// TestLookupAcrossChunks checks the two-level search over many chunks.
func TestLookupAcrossChunks(t *testing.T) {
	x := New()
	g := event.NewGenerator(event.ID{})
	var ps []Pending
	for i := 0; i < 3*chunkLen+17; i++ {
		ps = append(ps, Pending{ID: g.Next(int64(i / 7)), Entity: "e", Scope: "s", Global: uint64(i + 1), Sequence: uint64(i)})
	}
	x.Publish(ps)
	for i := 0; i < len(ps); i += 97 {
		if e, ok := x.LookupID(ps[i].ID); !ok || e.Global != ps[i].Global {
			t.Fatalf("entry %d: %+v %v", i, e, ok)
		}
	}
	if _, ok := x.LookupID(event.ID{0xFF}); ok {
		t.Fatal("id above every id found")
	}
	if _, ok := x.LookupID(event.ID{}); ok {
		t.Fatal("zero id found")
	}
}

func TestIdempotencyKeys(t *testing.T) {
	x := New()
	x.Publish([]Pending{{ID: event.NewID(), Entity: "e", Scope: "s", IdemKey: "k", Global: 1}})
	if e, ok := x.LookupKey("k"); !ok || e.Global != 1 {
		t.Fatal("key not found")
	}
	if _, ok := x.LookupKey("other"); ok {
		t.Fatal("unknown key found")
	}
}

// TestReadersDuringPublish runs queries while the writer publishes; each
// query sees a gap-free prefix in global order (run with -race).
func TestReadersDuringPublish(t *testing.T) {
	x := New()
	var wg sync.WaitGroup
	done := make(chan struct{})
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				prev := uint64(0)
				for e := range x.Query(event.AllEvents(), 0) {
					if e.Global != prev+1 {
						t.Errorf("gap: %d after %d", e.Global, prev)
						return
					}
					prev = e.Global
				}
			}
		}()
	}
	for i := 0; i < 200; i++ {
		fill(x, i*10, 10)
	}
	close(done)
	wg.Wait()
}

func TestRunStartWalksBackOverBackToBackFrames(t *testing.T) {
	x := New()
	frame := func(g uint64, seg, off, size uint32) Pending {
		return Pending{ID: event.NewID(), Entity: "e", Scope: "s", Kind: kindA, Global: g, Sequence: g - 1,
			Segment: seg, Offset: off, Size: size}
	}
	x.Publish([]Pending{
		frame(1, 1, 48, 50), frame(2, 1, 98, 50), // a run from the segment's start
		frame(3, 1, 170, 30), frame(4, 1, 200, 60), frame(5, 1, 260, 10), // after 22 bytes of records
		frame(7, 2, 48, 30), frame(8, 2, 78, 30), // a new segment (global 6 was never used)
	})
	type want struct {
		first          uint64
		gap            uint32
		atFloor, found bool
	}
	for _, tc := range []struct {
		g, floor uint64
		want     want
	}{
		{1, 0, want{1, 0, false, true}},
		{2, 0, want{1, 0, false, true}},
		{3, 0, want{3, 148, false, true}},
		{5, 0, want{3, 148, false, true}},
		{5, 3, want{4, 0, true, true}}, // the caller knows the run from 3 on
		{8, 0, want{7, 0, false, true}},
		{8, 5, want{7, 0, false, true}}, // the floor lies in another segment
		{6, 0, want{found: false}},
		{math.MaxUint64, 0, want{found: false}},
	} {
		first, gap, atFloor, ok := x.RunStart(tc.g, tc.floor)
		got := want{first.Global, gap, atFloor, ok}
		if !ok {
			got = want{found: false}
		}
		assert.Equal(t, tc.want, got, "RunStart(%d, %d)", tc.g, tc.floor)
	}
}

func TestScanAfterTheLargestPositionIsEmpty(t *testing.T) {
	x := New()
	fill(x, 0, 10)
	for _, r := range []event.Region{event.AllEvents(), event.ForEntity("e1"), event.ForScope("s0"), event.AllEvents().WithKind(kindA)} {
		n := 0
		for range x.Query(r, math.MaxUint64) {
			n++
		}
		assert.Zero(t, n, "Query(%+v, MaxUint64)", r)
	}
}
