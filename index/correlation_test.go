package index

import (
	"slices"
	"testing"

	"github.com/batpak-go/batpak/event"
)

// correlatedGlobals lists the globals Correlated returns for c.
func correlatedGlobals(x *Index, c event.ID) []uint64 {
	var out []uint64
	for _, e := range x.Correlated(c) {
		out = append(out, e.Global)
	}
	return out
}

// The correlation index keeps only events that are not their own
// correlation, returns a workflow's candidates (its root by id) in global
// order, and survives a checkpoint, a Rewrite that drops entries, and
// Rebuilt.
func TestCorrelatedAcrossCheckpointAndRewrite(t *testing.T) {
	x := New()
	root, other, late := event.NewID(), event.NewID(), event.NewID()
	ps := []Pending{
		{ID: root, Entity: "a", Scope: "s", Kind: kindA, Global: 1}, // its own: not kept
		{ID: event.NewID(), Entity: "b", Scope: "s", Kind: kindA, Global: 2, Correlation: root},
		{ID: other, Entity: "b", Scope: "s", Kind: kindA, Global: 3, Sequence: 1, Correlation: other}, // its own
		{ID: event.NewID(), Entity: "a", Scope: "s", Kind: kindA, Global: 4, Sequence: 1, Correlation: late},
		{ID: event.NewID(), Entity: "c", Scope: "s", Kind: kindA, Global: 5, Correlation: root},
		{ID: late, Entity: "c", Scope: "s", Kind: kindA, Global: 6, Sequence: 1}, // names an earlier workflow
	}
	x.Publish(ps)
	if n := x.CorrelatedCount(); n != 3 {
		t.Fatalf("%d events kept in the correlation index, want 3", n)
	}
	want := map[event.ID][]uint64{root: {1, 2, 5}, other: {3}, late: {4, 6}, event.NewID(): nil}
	check := func(when string, y *Index, want map[event.ID][]uint64) {
		t.Helper()
		for c, w := range want {
			if got := correlatedGlobals(y, c); !slices.Equal(got, w) {
				t.Fatalf("%s: Correlated(%v) = %v, want %v", when, c, got, w)
			}
		}
	}
	check("published", x, want)
	y, _, err := UnmarshalCheckpoint(x.MarshalCheckpoint(Watermark{Segment: 1, Offset: 1, LastGlobal: 6}))
	if err != nil {
		t.Fatal(err)
	}
	check("from a checkpoint", y, want)
	x.Rewrite(func(e *Entry) bool { return e.Global != 2 && e.Global != 6 })
	want = map[event.ID][]uint64{root: {1, 5}, other: {3}, late: {4}}
	check("rewritten", x, want)
	check("rebuilt", x.Rebuilt(func(s uint32) uint32 { return s }), want)
}
