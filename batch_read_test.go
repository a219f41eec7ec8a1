package batpak_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/projector"
)

// Consumers that read in capped batches (a cursor's NextBatch, the live
// projection fed by one) never split an atomic batch: AppendBatch promises
// all or none, and a read that stops inside a batch would show a part.

// batchTally counts the batch items it applied.
type batchTally struct{ N int }

func (*batchTally) Projection() projector.Spec {
	return projector.Spec{Name: "tally", Version: 1, Kinds: []event.EventKind{kindMarker}, Incremental: true}
}

func (b *batchTally) Apply(*event.StoredEvent) error { b.N++; return nil }

// watchedSource hands the live projection feeds that call before ahead of
// every NextBatch and after with what it returned. The projection calls
// NextBatch between applying two batches, holding no lock, so before
// sees every state readers could have seen.
type watchedSource struct {
	projector.Source
	before func()
	after  func(evs []*batpak.StoredEvent)
}

func (w watchedSource) Follow(r event.Region, from uint64) (projector.Feed, error) {
	f, err := w.Source.Follow(r, from)
	if err != nil {
		return nil, err
	}
	return watchedFeed{Feed: f, w: w}, nil
}

type watchedFeed struct {
	projector.Feed
	w watchedSource
}

func (f watchedFeed) NextBatch(ctx context.Context, max int) ([]*batpak.StoredEvent, error) {
	f.w.before()
	evs, err := f.Feed.NextBatch(ctx, max)
	if err == nil {
		f.w.after(evs)
	}
	return evs, err
}

func TestLiveProjectionNeverShowsPartOfABatch(t *testing.T) {
	ctx := projCtx(t)
	s := openStore(t, t.TempDir())
	src, ok := s.ProjectionLog().(projector.Source)
	require.True(t, ok, "the store's projection log is a projector.Source")

	const batches, size = 300, 5
	gate := make(chan struct{}) // holds the projection until the backlog is there
	var (
		gated atomic.Bool
		live  atomic.Pointer[projector.Live[batchTally]]
		seen  []int // states seen between applied batches; Serve's goroutine only
		reads int   // likewise
	)
	w := watchedSource{Source: src}
	w.before = func() {
		if !gated.Swap(true) {
			<-gate
		}
		// Hooks run on Serve's goroutine: assert, never require.
		assert.NoError(t, live.Load().Read(ctx, func(st *batchTally, _ uint64) { seen = append(seen, st.N) }))
	}
	w.after = func(evs []*batpak.StoredEvent) {
		reads++
		assert.NoError(t, wholeBatches(evs, func(int) int { return size }), "feed read %d", reads)
	}
	p, err := projector.New(w, projector.HostOptions{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	defer p.Close()
	l, err := projector.Register[batchTally](p, "", projector.Over(event.ForScope("tally")))
	require.NoError(t, err)
	live.Store(l)
	require.NoError(t, l.WaitApplied(ctx, 0)) // built; its first read waits at the gate

	// Pipelined: every batch is submitted before any is waited for.
	tickets := make([]batpak.Ticket, batches)
	for b := range tickets {
		items := make([]batpak.BatchItem, size)
		for i := range items {
			items[i] = batpak.BatchItem{
				Coord:   coord(t, fmt.Sprintf("counter:%d", i), "tally"),
				Kind:    kindMarker,
				Payload: batchMark{Batch: b, Item: i, Of: size},
			}
		}
		tickets[b], err = s.SubmitBatch(ctx, items, batpak.DefaultDurability)
		require.NoError(t, err)
	}
	var last uint64
	for _, tk := range tickets {
		rs, err := tk.WaitAll(ctx)
		require.NoError(t, err)
		last = rs[len(rs)-1].Global
	}
	close(gate)
	require.NoError(t, l.WaitApplied(ctx, last))
	require.NoError(t, p.Close()) // joins Serve: seen and reads are ours now

	require.NotEmpty(t, seen)
	for i, n := range seen {
		assert.Zero(t, n%size, "state %d of the live projection holds %d items: part of a batch", i, n)
	}
	t.Logf("%d feed reads, %d states seen", reads, len(seen))
}

// wholeBatches checks that evs, one capped read, holds either none or all
// of each batch's events in the read's region: want(b) of batch b.
// Events appended alone (batch -1) are not checked.
func wholeBatches(evs []*batpak.StoredEvent, want func(batch int) int) error {
	got := map[int]int{}
	var order []int
	for _, ev := range evs {
		var m batchMark
		if err := ev.Decode(&m); err != nil {
			return err
		}
		if m.Batch < 0 {
			continue
		}
		if got[m.Batch] == 0 {
			order = append(order, m.Batch)
		}
		got[m.Batch]++
	}
	for _, b := range order {
		if got[b] != want(b) {
			return fmt.Errorf("batch %d: %d of its %d events in the region read together", b, got[b], want(b))
		}
	}
	return nil
}

func TestCursorNextBatchNeverSplitsAnAtomicBatch(t *testing.T) {
	dir := t.TempDir()
	opts := []batpak.Option{quiet, batpak.WithSegmentSize(64 << 10)}
	s := openStore(t, dir, opts...)
	rng := rand.New(rand.NewPCG(22, 2))
	type item struct {
		entity, scope string
		kind          event.EventKind
	}
	pick := func() item {
		kinds := []event.EventKind{kindMarker, kindMoved}
		return item{fmt.Sprintf("e:%d", rng.IntN(6)), []string{"s:a", "s:b"}[rng.IntN(2)], kinds[rng.IntN(2)]}
	}
	batches := map[int][]item{}
	pad := make([]byte, 300) // a few hundred events a segment
	for step := range 400 {
		if rng.IntN(5) < 2 {
			it := pick()
			_, err := s.Append(bg, coord(t, it.entity, it.scope), it.kind, batchMark{Batch: -1, Item: step, Pad: pad})
			require.NoError(t, err)
			continue
		}
		n := 1 + rng.IntN(12)
		items := make([]batpak.BatchItem, n)
		for i := range items {
			it := pick()
			batches[step] = append(batches[step], it)
			items[i] = batpak.BatchItem{Coord: coord(t, it.entity, it.scope), Kind: it.kind, Payload: batchMark{Batch: step, Item: i, Of: n, Pad: pad}}
		}
		_, err := s.AppendBatch(bg, items)
		require.NoError(t, err)
	}
	regions := []batpak.Region{
		event.AllEvents(), event.ForScope("s:a"), event.ForEntity("e:1"),
		event.ForEntity("e:").WithEntityPrefix("e:"), event.AllEvents().WithKind(kindMarker),
		event.ForScope("s:b").WithKind(kindMoved),
	}
	check := func(phase string, s *batpak.Store) {
		for _, r := range regions {
			inRegion := func(b int) int {
				n := 0
				for _, it := range batches[b] {
					if r.Matches(event.MustCoordinate(it.entity, it.scope), it.kind, 0) {
						n++
					}
				}
				return n
			}
			want := globalsOf(collect(t, s.Query(bg, r)))
			require.NotEmpty(t, want)
			for _, max := range []int{1, 2, 3, 7, 64} {
				what := fmt.Sprintf("%s: region %+v, NextBatch(%d)", phase, r, max)
				cur, err := s.Cursor(r, 0)
				require.NoError(t, err)
				var (
					got  []uint64
					lead []*batpak.StoredEvent // returned by Next: the rest of its batch must come next
				)
				if max == 3 { // with events already buffered by Next
					ev, err := cur.Next(bg)
					require.NoError(t, err)
					got, lead = append(got, ev.Global), append(lead, ev)
				}
				for len(got) < len(want) {
					evs, err := cur.NextBatch(bg, max)
					require.NoError(t, err, what)
					require.NoError(t, wholeBatches(append(lead, evs...), inRegion), what)
					lead = nil
					if len(evs) > max {
						b := onlyBatch(t, evs)
						require.True(t, b >= 0 && inRegion(b) > max, "%s: %d events, more than one batch that alone exceeds the limit", what, len(evs))
					}
					got = append(got, globalsOf(evs)...)
				}
				require.Equal(t, want, got, what)
				require.NoError(t, cur.Close())
			}
		}
	}
	check("live", s)
	closeStore(t, s)
	s = openStore(t, dir, opts...)
	check("reopened from the checkpoint", s)
	rep, err := s.Compact(bg, batpak.CompactOptions{TargetSize: 256 << 10, Retain: func(ev *batpak.StoredEvent) bool {
		var m batchMark
		return ev.Decode(&m) != nil || m.Batch >= 0 || m.Item%3 != 0 // drop some events appended alone
	}})
	require.NoError(t, err)
	require.Positive(t, rep.EventsDropped)
	require.Less(t, rep.SegmentsWritten, rep.SegmentsRemoved, "segments merged")
	check("compacted", s)
	closeStore(t, s)
	require.NoError(t, os.Remove(filepath.Join(dir, "CHECKPOINT")))
	s = openStore(t, dir, opts...)
	check("reopened by scanning", s)
}

// onlyBatch returns the batch all of evs belong to, or -1 if they are not
// all items of one batch.
func onlyBatch(t *testing.T, evs []*batpak.StoredEvent) int {
	b := -2
	for _, ev := range evs {
		var m batchMark
		require.NoError(t, ev.Decode(&m))
		if m.Batch < 0 || (b != -2 && m.Batch != b) {
			return -1
		}
		b = m.Batch
	}
	return b
}
