package index

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
)

// linkedPendings is n events over entities e0..e2, with clock readings,
// every third one a reaction to the first (correlation and causation),
// every fifth one caused without a workflow, and ids that sometimes go
// back (as an import's may): the cases headers take from beside the
// entries.
func linkedPendings(n int) []Pending {
	ps := make([]Pending, n)
	seq := map[string]uint64{}
	for i := range ps {
		e := fmt.Sprintf("e%d", i%3)
		ps[i] = Pending{
			ID: event.NewID(), Entity: e, Scope: fmt.Sprintf("s%d", i%2), Kind: kindA,
			Global: uint64(i + 1), Sequence: seq[e], Segment: 1, Offset: uint32(i * 100), Size: 100 + uint32(i%7),
			Position: event.Position{WallMS: 1<<40 + uint64(i/3), Counter: uint32(i % 3)},
		}
		seq[e]++
		if i%3 == 1 {
			ps[i].Correlation, ps[i].Causation = ps[0].ID, ps[0].ID
		}
		if i%5 == 2 {
			ps[i].Causation = ps[1].ID
		}
		if i%11 == 10 {
			ps[i].ID = ps[i-5].ID // out of order: an id below the last
			ps[i].ID[15] ^= 1
		}
	}
	return ps
}

// wantHeader is the header of p.
func wantHeader(p Pending) event.IndexHeader {
	corr := p.Correlation
	if corr.IsZero() {
		corr = p.ID
	}
	return event.IndexHeader{
		ID: p.ID, Correlation: corr, Causation: p.Causation, Coordinate: event.MustCoordinate(p.Entity, p.Scope),
		Kind: p.Kind, Global: p.Global, Sequence: p.Sequence, Position: p.Position, Size: p.Size,
	}
}

func scanHeaders(x *Index, r event.Region, after uint64, block int) []event.IndexHeader {
	hs := x.ScanHeaders(r, after)
	buf := make([]event.IndexHeader, block)
	var out []event.IndexHeader
	for n := hs.Next(buf); n > 0; n = hs.Next(buf) {
		out = append(out, buf[:n]...)
	}
	return out
}

func requireHeaders(t *testing.T, x *Index, ps []Pending) {
	t.Helper()
	byGlobal := map[uint64]Pending{}
	for _, p := range ps {
		byGlobal[p.Global] = p
	}
	for _, r := range []event.Region{event.AllEvents(), event.ForEntity("e1"), event.ForScope("s0"),
		event.AllEvents().WithScopes("s0", "s1"), event.AllEvents().WithKind(kindA)} {
		for _, block := range []int{1, 7, 64, 1000} {
			var want []event.IndexHeader
			for e := range x.Query(r, 3) {
				want = append(want, wantHeader(byGlobal[e.Global]))
			}
			require.NotEmpty(t, want)
			require.Equal(t, want, scanHeaders(x, r, 3, block), "%v, blocks of %d", r, block)
		}
	}
}

func TestHeadersFromPublishCheckpointRewriteAndRebuilt(t *testing.T) {
	ps := linkedPendings(chunkLen + 77)
	x := New()
	x.Publish(ps)
	require.NotEmpty(t, x.overPos, "the pendings must hold ids out of order")
	requireHeaders(t, x, ps)

	w := Watermark{Segment: 1, Offset: 1 << 20, LastGlobal: uint64(len(ps))}
	y, _, err := UnmarshalCheckpoint(x.MarshalCheckpoint(w))
	require.NoError(t, err)
	requireHeaders(t, y, ps)
	assert.Equal(t, x.CorrelatedCount(), y.CorrelatedCount(), "the correlation index comes back from the links")
	assert.Equal(t, x.Correlated(ps[0].ID), y.Correlated(ps[0].ID))

	// A Rewrite renumbers positions: clocks, links and out-of-order ids
	// follow their entries.
	var kept []Pending
	for i, p := range ps {
		if i%4 != 0 {
			kept = append(kept, p)
		}
	}
	dropped := y.Rewrite(func(e *Entry) bool { return (e.Global-1)%4 != 0 })
	require.Equal(t, len(ps)-len(kept), dropped)
	requireHeaders(t, y, kept)
	requireHeaders(t, y.Rebuilt(func(s uint32) uint32 { return s }), kept)
}

// A header scan taken while a Rewrite renumbers the positions still
// gives each entry its own header (ScanHeaders retakes both snapshots).
func TestHeaderScansDuringRewrites(t *testing.T) {
	ps := linkedPendings(3000)
	x := New()
	x.Publish(ps)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 20 {
			x.Rewrite(func(e *Entry) bool { return e.Global%uint64(50+i) != 0 })
		}
	}()
	byGlobal := map[uint64]Pending{}
	for _, p := range ps {
		byGlobal[p.Global] = p
	}
	for {
		select {
		case <-done:
			return
		default:
		}
		for _, h := range scanHeaders(x, event.ForEntity("e2"), 0, 64) {
			require.Equal(t, wantHeader(byGlobal[h.Global]), h)
		}
	}
}
