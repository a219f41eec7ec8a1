package batpak

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/vfs"
)

var compactKind = event.MustCustom(1, 2)

// written is one appended event as the test remembers it.
type written struct {
	id     ID
	global uint64
	entity string
	coord  Coordinate
	seq    uint64
	key    string
	batch  int    // 0: not in a batch
	data   []byte // the payload of a keyed event (a retry must repeat it)
}

// compactWorkload appends singles (some with idempotency keys) and batches
// over a few entities, with payloads that fill 64 KiB segments quickly.
// Entity "old" is written only at the start; "gone" likewise.
func compactWorkload(t *testing.T, s *Store, tag string, n int) []written {
	t.Helper()
	ctx := context.Background()
	var out []written
	add := func(r Receipt, key string, batch int) {
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
			items := []BatchItem{
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
		data := bytes.Repeat([]byte{byte(i)}, 250)
		r, err := s.AppendWithOptions(ctx, c, compactKind, data, AppendOptions{IdempotencyKey: key})
		if err != nil {
			t.Fatal(err)
		}
		add(r, key, 0)
		if key != "" {
			out[len(out)-1].data = data
		}
	}
	return out
}

// compactRetain drops all of e3 (except where a batch keeps it), every
// other event of e5, the first five of e7, the newest three of "old" and
// all of "gone".
func compactRetain(ev *StoredEvent) bool {
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

// expectKept computes which events Compact must keep: every event of the
// active segment, and of the sealed ones those Retain keeps, with whole
// batches kept if Retain keeps any of their events.
func expectKept(t *testing.T, s *Store, ws []written) map[uint64]bool {
	t.Helper()
	live := s.segs.Live()
	active := live[len(live)-1].ID
	retained := func(w written) bool {
		ev, err := s.Get(context.Background(), w.id)
		if err != nil {
			t.Fatal(err)
		}
		e, _ := s.idx.LookupID(w.id)
		return e.Segment == active || compactRetain(ev)
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

// frames returns every indexed event's frame body by global sequence.
func frames(t *testing.T, s *Store) map[uint64][]byte {
	t.Helper()
	out := map[uint64][]byte{}
	for e := range s.idx.Query(event.AllEvents(), 0) {
		b, err := s.segs.ReadFrame(e)
		if err != nil {
			t.Fatal(err)
		}
		out[e.Global] = b
	}
	return out
}

// checkCompacted checks a store after compaction: exactly the expected
// events, byte-identical, readable by id, by stream, and verifiable.
func checkCompacted(t *testing.T, s *Store, ws []written, keep map[uint64]bool, before map[uint64][]byte) {
	t.Helper()
	ctx := context.Background()
	after := frames(t, s)
	for g, body := range after {
		if !keep[g] {
			t.Fatalf("event %d should have been dropped", g)
		}
		if !bytes.Equal(body, before[g]) {
			t.Fatalf("event %d is not byte-identical after compaction", g)
		}
	}
	for _, w := range ws {
		_, err := s.Get(ctx, w.id)
		switch {
		case keep[w.global] && err != nil:
			t.Fatalf("kept event %d: %v", w.global, err)
		case !keep[w.global] && !errors.Is(err, ErrNotFound):
			t.Fatalf("dropped event %d: Get gave %v", w.global, err)
		case keep[w.global] && after[w.global] == nil:
			t.Fatalf("kept event %d is missing", w.global)
		}
	}
	for _, entity := range []string{"e0", "e3", "e5", "e7", "old"} {
		var want, got []uint64
		for _, w := range ws {
			if w.entity == entity && keep[w.global] {
				want = append(want, w.seq)
			}
		}
		for ev, err := range s.Stream(ctx, entity) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ev.Sequence)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("stream %s: sequences %v, want %v", entity, got, want)
		}
	}
	rep, err := s.Verify(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("Verify after compaction: %v %v", err, rep.Problem)
	}
	if rep.ChainRestarts == 0 {
		t.Fatal("Verify saw no chain restart, though retention dropped predecessors")
	}
	// The newest event of e5 walks back through kept, verified events.
	last, err := s.Latest(ctx, "e5")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for ev, err := range s.WalkAncestors(ctx, last.ID, 0) {
		if err != nil {
			t.Fatalf("WalkAncestors: %v", err)
		}
		if !keep[ev.Global] {
			t.Fatalf("WalkAncestors yielded dropped event %d", ev.Global)
		}
		n++
	}
	if n == 0 {
		t.Fatal("WalkAncestors yielded nothing")
	}
}

func TestCompactKeepsExactlyRetainedEventsByteIdentical(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir, WithSegmentSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	ws := compactWorkload(t, s, "a", 900)
	before := frames(t, s)
	keep := expectKept(t, s, ws)
	segsBefore := s.Stats().Segments
	rep, err := s.Compact(ctx, CompactOptions{Retain: compactRetain, TargetSize: 128 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if rep.EventsDropped == 0 || rep.SegmentsWritten == 0 || s.Stats().Segments >= segsBefore {
		t.Fatalf("compaction did little: %+v (segments %d → %d)", rep, segsBefore, s.Stats().Segments)
	}
	checkCompacted(t, s, ws, keep, before)

	// Idempotency keys: a kept event's key replays it; a dropped one's
	// key is forgotten with it.
	for _, w := range ws {
		if w.key == "" {
			continue
		}
		r, err := s.AppendWithOptions(ctx, w.coord, compactKind, w.data, AppendOptions{IdempotencyKey: w.key})
		if keep[w.global] && (err != nil || !r.Replayed || r.Global != w.global) {
			t.Fatalf("retry of kept key %s: %+v %v", w.key, r, err)
		}
		if !keep[w.global] && (err != nil || r.Replayed) {
			t.Fatalf("retry of dropped key %s: %+v %v", w.key, r, err)
		}
		if !r.Replayed {
			ws = append(ws, written{id: r.ID, global: r.Global, entity: w.entity, coord: w.coord, seq: r.Sequence})
		}
	}
	// An entity whose newest events were dropped continues after its newest
	// kept event; one with none kept starts again.
	nextOld, nextGone := appendSeq(t, s, "old"), appendSeq(t, s, "gone")
	ws = append(ws, nextOld, nextGone)
	if nextOld.seq != 9 || nextGone.seq != 0 {
		t.Fatalf("after compaction old continues at %d (want 9), gone at %d (want 0)", nextOld.seq, nextGone.seq)
	}
	keepAll := frames(t, s)
	for g := range keepAll {
		keep[g] = true // the appends above, and the replays, are kept from now on
	}
	for g, b := range keepAll {
		if before[g] == nil {
			before[g] = b
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// After reopening (from the checkpoint Close wrote): the same.
	s, err = Open(dir, WithSegmentSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Stats().Recovery.Checkpoint {
		t.Fatalf("the checkpoint written after compaction was not used: %s", s.Stats().Recovery)
	}
	checkCompacted(t, s, ws, keep, before)
	if a, b := appendSeq(t, s, "old"), appendSeq(t, s, "gone"); a.seq != 10 || b.seq != 1 {
		t.Fatalf("after reopen old continues at %d, gone at %d", a.seq, b.seq)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fromCkpt, rep1 := reopenView(t, vfs.OS, dir)
	if err := os.Remove(filepath.Join(dir, reader.CheckpointFile)); err != nil {
		t.Fatal(err)
	}
	fromScan, rep2 := reopenView(t, vfs.OS, dir)
	if !rep1.Checkpoint || rep2.Checkpoint {
		t.Fatalf("checkpoint use: %v then %v", rep1.Checkpoint, rep2.Checkpoint)
	}
	if !reflect.DeepEqual(fromCkpt, fromScan) {
		t.Fatal("after compaction the index from the checkpoint differs from the scan's")
	}
}

func appendSeq(t *testing.T, s *Store, entity string) written {
	t.Helper()
	r, err := s.Append(context.Background(), event.MustCoordinate(entity, "s0"), compactKind, []byte("next"))
	if err != nil {
		t.Fatal(err)
	}
	return written{id: r.ID, global: r.Global, entity: entity, coord: r.Coordinate, seq: r.Sequence}
}

func TestCompactTwiceAndMergeOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir, WithSegmentSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ws := compactWorkload(t, s, "a", 600)
	before := frames(t, s)
	keep := expectKept(t, s, ws)
	if _, err := s.Compact(ctx, CompactOptions{Retain: compactRetain}); err != nil {
		t.Fatal(err)
	}
	// More appends seal more segments; a merge-only pass (nil Retain) with
	// a large target folds everything sealed, compacted or not, together.
	more := compactWorkload(t, s, "b", 400)
	for g, b := range frames(t, s) {
		if before[g] == nil {
			before[g], keep[g] = b, true
		}
	}
	ws = append(ws, more...)
	rep, err := s.Compact(ctx, CompactOptions{TargetSize: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	if rep.EventsDropped != 0 || s.Stats().Segments != 2 {
		t.Fatalf("merge-only pass: %+v, %d segments", rep, s.Stats().Segments)
	}
	checkCompacted(t, s, ws, keep, before)
}

func TestCompactRefusesReadOnlyAndClosed(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Compact(context.Background(), CompactOptions{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Compact on a closed store: %v", err)
	}
	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Compact(context.Background(), CompactOptions{}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Compact on a read-only store: %v", err)
	}
}

func TestSnapshotOfACompactedStoreOpensWithTheKeptEvents(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), WithSegmentSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	compactWorkload(t, s, "a", 600)
	if _, err := s.Compact(ctx, CompactOptions{Retain: compactRetain, TargetSize: 128 << 10}); err != nil {
		t.Fatal(err)
	}
	want := frames(t, s)
	dest := filepath.Join(t.TempDir(), "copy")
	if _, err := s.Snapshot(ctx, dest); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifySnapshot(ctx, dest); err != nil {
		t.Fatal(err)
	}
	c, err := Open(dest)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := frames(t, c); !reflect.DeepEqual(got, want) {
		t.Fatalf("the snapshot holds %d events, the store %d", len(got), len(want))
	}
}

// A read-only store that closed a segment (its budget) and finds it
// replaced by the writer's compaction when it reopens it says so rather
// than misread it.
func TestReadOnlyStoreRefusesASegmentReplacedByCompaction(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir, WithSegmentSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ws := compactWorkload(t, s, "a", 600)
	ro, err := OpenReadOnly(dir, WithMaxOpenSegments(1))
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	// Reading the newest events leaves the first segment closed.
	for _, w := range ws[len(ws)-50:] {
		if _, err := ro.Get(ctx, w.id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Compact(ctx, CompactOptions{TargetSize: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	if _, err := ro.Get(ctx, ws[0].id); !errors.Is(err, ErrSegmentReplaced) {
		t.Fatalf("read of a replaced segment: %v", err)
	}
}
