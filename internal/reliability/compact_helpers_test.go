package reliability_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/reader"
	"github.com/stretchr/testify/require"
)

// The mixed compaction workload and what Compact must keep of it, shared
// by the compaction crash test and the footer differential. (The root
// package's compaction contract tests have their own copy.)

var compactKind = event.MustCustom(1, 2)

// written is one appended event as the test remembers it.
type written struct {
	id     batpak.ID
	global uint64
	entity string
	coord  batpak.Coordinate
	seq    uint64
	key    string
	batch  int // 0: not in a batch
}

// mixedCompactWorkload appends singles (some with idempotency keys) and
// batches over a few entities, with payloads that fill 64 KiB segments
// quickly. Entity "old" is written only at the start; "gone" likewise.
func mixedCompactWorkload(t *testing.T, s *batpak.Store, tag string, n int) []written {
	t.Helper()
	ctx := context.Background()
	var out []written
	add := func(r batpak.Receipt, key string, batch int) {
		out = append(out, written{id: r.ID, global: r.Global, entity: r.Coordinate.Entity(), coord: r.Coordinate,
			seq: r.Sequence, key: key, batch: batch})
	}
	for i := range 12 {
		for _, e := range []string{"old", "gone"} {
			r, err := s.Append(ctx, event.MustCoordinate(e, "s0"), compactKind, bytes.Repeat([]byte{byte(i)}, 200))
			if err != nil {
				t.Fatal(err)
			}
			add(r, "", 0)
		}
	}
	batches := 0
	for i := range n {
		c := event.MustCoordinate(fmt.Sprintf("e%d", i%8), fmt.Sprintf("s%d", i%3))
		if i%9 == 4 {
			batches++
			items := []batpak.BatchItem{
				{Coord: c, Kind: compactKind, Payload: bytes.Repeat([]byte{1}, 150)},
				{Coord: event.MustCoordinate("e3", "s1"), Kind: compactKind, Payload: bytes.Repeat([]byte{2}, 150)},
			}
			rs, err := s.AppendBatch(ctx, items)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				add(r, "", batches)
			}
			continue
		}
		key := ""
		if i%5 == 0 {
			key = fmt.Sprintf("%s-k%d", tag, i)
		}
		r, err := s.AppendWithOptions(ctx, c, compactKind, bytes.Repeat([]byte{byte(i)}, 250), batpak.AppendOptions{IdempotencyKey: key})
		if err != nil {
			t.Fatal(err)
		}
		add(r, key, 0)
	}
	return out
}

// mixedRetain drops all of e3 (except where a batch keeps it), every
// other event of e5, the first five of e7, the newest three of "old" and
// all of "gone".
func mixedRetain(ev *batpak.StoredEvent) bool {
	seq := ev.Sequence
	switch ev.Coordinate.Entity() {
	case "e3", "gone":
		return false
	case "e5":
		return ev.Global%2 == 1
	case "e7":
		return seq >= 5
	case "old":
		return seq < 9
	}
	return true
}

// expectKept computes which events Compact must keep of a store whose
// recovered index is rec: every event of the active segment, and of the
// sealed ones those Retain keeps, with whole batches kept if Retain keeps
// any of their events.
func expectKept(t *testing.T, rec *reader.Recovered, ws []written) map[uint64]bool {
	t.Helper()
	live := rec.Segments.Live()
	active := live[len(live)-1].ID
	retained := func(w written) bool {
		e, ok := rec.Index.LookupID(w.id)
		require.True(t, ok, "event %d not in the index", w.global)
		ev, err := rec.Segments.Read(rec.Index, e)
		require.NoError(t, err)
		return e.Segment == active || mixedRetain(ev)
	}
	keep := map[uint64]bool{}
	batchKeep := map[int]bool{}
	for _, w := range ws {
		k := retained(w)
		keep[w.global] = k
		if w.batch != 0 && k {
			batchKeep[w.batch] = true
		}
	}
	for _, w := range ws {
		if w.batch != 0 {
			keep[w.global] = batchKeep[w.batch]
		}
	}
	return keep
}

// indexedFrames returns every indexed event's frame by global sequence.
func indexedFrames(t *testing.T, rec *reader.Recovered) map[uint64][]byte {
	t.Helper()
	out := map[uint64][]byte{}
	for e := range rec.Index.Query(event.AllEvents(), 0) {
		b, err := rec.Segments.ReadFrame(e)
		require.NoError(t, err, "reading global %d", e.Global)
		out[e.Global] = b
	}
	return out
}
