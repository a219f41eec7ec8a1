package reliability_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// Reopen and recovery: what Open rebuilds, how it treats a torn tail, and
// how it refuses damage before the tail (C2, C3, C4).

// writeMixed appends singles, keyed and flagged events, reactions and
// batches over a few entities and returns the receipts in global order.
func writeMixed(t testing.TB, s *batpak.Store) []batpak.Receipt {
	t.Helper()
	var acked []batpak.Receipt
	entities := []string{"player:alice", "player:bob", "npc:orc"}
	for i := range 30 {
		c := coord(t, entities[i%3], []string{"room:hall", "room:crypt"}[i%2])
		switch i % 6 {
		case 2:
			r, err := s.AppendWithOptions(bg, c, kindSpoke, payload{N: i}, batpak.AppendOptions{
				IdempotencyKey: fmt.Sprintf("key-%d", i), Flags: uint16(i),
			})
			if err != nil {
				t.Fatal(err)
			}
			acked = append(acked, r)
		case 4:
			r, err := s.AppendReaction(bg, c, kindMoved, payload{N: i}, acked[0].ID, acked[len(acked)-1].ID)
			if err != nil {
				t.Fatal(err)
			}
			acked = append(acked, r)
		case 5:
			rs, err := s.AppendBatch(bg, []batpak.BatchItem{
				{Coord: c, Kind: kindMarker, Payload: batchMark{Batch: i, Item: 0, Of: 3}},
				{Coord: coord(t, "npc:orc", "room:hall"), Kind: kindMarker, Payload: batchMark{Batch: i, Item: 1, Of: 3}, Cause: batpak.CauseItem(0)},
				{Coord: c, Kind: kindMarker, Payload: batchMark{Batch: i, Item: 2, Of: 3}, Options: batpak.AppendOptions{IdempotencyKey: fmt.Sprintf("bkey-%d", i)}},
			})
			if err != nil {
				t.Fatal(err)
			}
			acked = append(acked, rs...)
		default:
			acked = append(acked, mustAppend(t, s, c, kindMoved, payload{N: i, Note: "plain"}))
		}
	}
	return acked
}

// streams reads every entity's stream, so Hash.Prev is filled in.
func streams(t testing.TB, s *batpak.Store, evs []*batpak.StoredEvent) map[batpak.ID]event.HashChain {
	t.Helper()
	out := map[batpak.ID]event.HashChain{}
	done := map[string]bool{}
	for _, ev := range evs {
		e := ev.Coordinate.Entity()
		if done[e] {
			continue
		}
		done[e] = true
		for _, sev := range collect(t, s.Stream(bg, e)) {
			out[sev.ID] = sev.Hash
		}
	}
	return out
}

func TestReopenRestoresEventsChainsAndSequences(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	acked := writeMixed(t, s)
	before := all(t, s)
	chains := streams(t, s, before)
	closeStore(t, s)

	s = openStore(t, dir)
	after := all(t, s)
	if len(after) != len(before) || len(after) != len(acked) {
		t.Fatalf("reopened: %d events, before %d, acknowledged %d", len(after), len(before), len(acked))
	}
	for i := range after {
		if d := sameEvent(before[i], after[i]); d != "" {
			t.Fatalf("event %d differs after reopening in %s", i, d)
		}
		if !receiptMatches(acked[i], after[i]) {
			t.Fatalf("event %d differs from its receipt after reopening", i)
		}
	}
	for id, h := range streams(t, s, after) {
		if chains[id] != h {
			t.Fatalf("event %v: chain %+v after reopening, %+v before", id, h, chains[id])
		}
	}
	checkLog(t, s, after, true)
	if rec := s.Stats().Recovery; rec.Events != len(acked) || rec.Torn || rec.Segments != 1 {
		t.Fatalf("recovery report: %+v", rec)
	}

	// The log continues where it left off.
	last := after[len(after)-1]
	alice, err := s.Latest(bg, "player:alice")
	if err != nil {
		t.Fatal(err)
	}
	r := mustAppend(t, s, coord(t, "player:alice", "room:hall"), kindMoved, payload{N: 100})
	if r.Global != last.Global+1 || r.Sequence != alice.Sequence+1 {
		t.Fatalf("after reopening: global %d sequence %d; want %d and %d", r.Global, r.Sequence, last.Global+1, alice.Sequence+1)
	}
	if r.ID.Compare(last.ID) <= 0 || r.Position.Compare(last.Position) <= 0 {
		t.Fatal("after reopening: the new event's id or clock reading is not after the last one's")
	}
	ev, err := s.Get(bg, r.ID)
	if err != nil || ev.Hash.Prev != alice.Hash.Self {
		t.Fatalf("after reopening: the new event does not chain to its predecessor (%v)", err)
	}
}

func TestReopenWithClockSteppedBackNeverReusesIDsOrPositions(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	var last batpak.Receipt
	for i := range 5 {
		last = mustAppend(t, s, coord(t, "e", "s"), kindMoved, payload{N: i})
	}
	closeStore(t, s)

	past := time.Now().Add(-24 * time.Hour)
	s = openStore(t, dir, batpak.WithClock(func() time.Time { return past }))
	for i := range 5 {
		r := mustAppend(t, s, coord(t, "e", "s"), kindMoved, payload{N: 5 + i})
		if r.ID.Compare(last.ID) <= 0 {
			t.Fatalf("append %d after a clock step back: id %v not after %v", i, r.ID, last.ID)
		}
		if r.Position.Compare(last.Position) <= 0 {
			t.Fatalf("append %d after a clock step back: clock reading %v not after %v", i, r.Position, last.Position)
		}
		if r.Global != last.Global+1 || r.Sequence != last.Sequence+1 {
			t.Fatalf("append %d: global %d sequence %d after %d/%d", i, r.Global, r.Sequence, last.Global, last.Sequence)
		}
		last = r
	}
	checkLog(t, s, all(t, s), true)
}

// sweepWorkload writes the log the truncate sweep cuts: singles, a batch,
// more singles (four rounds of them if long), then the last batch and three
// singles after it.
func sweepWorkload(t testing.TB, s *batpak.Store, long bool) {
	t.Helper()
	a, b, c := coord(t, "a", "s"), coord(t, "b", "s"), coord(t, "c", "t")
	batch := func(n int, items ...batpak.Coordinate) {
		var bi []batpak.BatchItem
		for i, co := range items {
			bi = append(bi, batpak.BatchItem{Coord: co, Kind: kindMarker, Payload: batchMark{Batch: n, Item: i, Of: len(items)}})
		}
		if _, err := s.AppendBatch(bg, bi); err != nil {
			t.Fatal(err)
		}
	}
	rounds := 1
	if long {
		rounds = 4
	}
	for r := range rounds {
		mustAppend(t, s, a, kindMoved, payload{N: 10*r + 1})
		mustAppend(t, s, b, kindMoved, payload{N: 10*r + 2})
		batch(10*r+3, a, b, c)
		mustAppend(t, s, c, kindMoved, payload{N: 10*r + 4})
	}
	batch(100, b, a, b)
	mustAppend(t, s, a, kindMoved, payload{N: 101})
	mustAppend(t, s, b, kindSpoke, payload{N: 102})
	mustAppend(t, s, c, kindMoved, payload{N: 103})
}

// truncateSweep writes the workload on fsys in dir, then for each cut
// offset from the last batch on (with whole: from the first record)
// restores a copy with the last segment cut there and checks C2:
// exactly the whole committed records before the cut come back, the cut
// is reported, and the log continues after it.
func truncateSweep(t *testing.T, fsys vfs.FS, dir string, copyFS func() (vfs.FS, string), long, whole, everyByte bool) {
	// Small segments keep the writer's preallocation cheap.
	opts := []batpak.Option{batpak.WithFS(fsys), batpak.WithSegmentSize(64 << 10)}
	s := openStore(t, dir, opts...)
	sweepWorkload(t, s, long)
	original := map[batpak.ID]*batpak.StoredEvent{}
	for _, ev := range all(t, s) {
		original[ev.ID] = ev
	}
	closeStore(t, s)

	segs := segmentFiles(t, fsys, dir)
	if len(segs) != 1 {
		t.Fatalf("workload wrote %d segments, want 1", len(segs))
	}
	data := readFile(t, fsys, filepath.Join(dir, segs[0]))
	fs := frames(t, data)
	if fs[len(fs)-1].End != int64(len(data)) {
		t.Fatal("the workload's segment does not end in a whole record")
	}
	// The sweep starts at the last batch's BEGIN, or with whole at the
	// first record.
	from := int64(segment.HeaderSize)
	if !whole {
		for _, f := range fs {
			if f.Typ == segment.TypeBatchBegin {
				from = f.Off
			}
		}
	}
	var swept, torn int
	for _, cut := range cuts(fs, from, int64(len(data)), everyByte) {
		want, end := committedBefore(fs, cut)
		discarded := inBatchAt(fs, cut)

		cfs, cdir := copyFS()
		name := filepath.Join(cdir, segs[0])
		writeFile(t, cfs, name, tornCut(data, int(cut)))

		opts := []batpak.Option{batpak.WithFS(cfs), batpak.WithSegmentSize(64 << 10)}
		s, err := tryOpen(cdir, opts...)
		if err != nil {
			t.Fatalf("cut at %d: Open: %v", cut, err)
		}
		fail := func(format string, args ...any) {
			t.Helper()
			s.Close()
			t.Fatalf("cut at %d (last whole record ends at %d): %s", cut, end, fmt.Sprintf(format, args...))
		}
		evs := all(t, s)
		if len(evs) != len(want) {
			fail("%d events recovered, %d committed before the cut", len(evs), len(want))
		}
		for _, ev := range evs {
			if !want[ev.ID] {
				fail("event %v (global %d) recovered but not committed before the cut", ev.ID, ev.Global)
			}
			if d := sameEvent(original[ev.ID], ev); d != "" {
				fail("event %v recovered with a different %s", ev.ID, d)
			}
		}
		if _, err := batchCounts(evs); err != nil {
			fail("%v", err)
		}
		rec := s.Stats().Recovery
		wantTorn := cut != end
		if rec.Torn != wantTorn || (wantTorn && (rec.TruncatedAt != end || rec.TruncatedBytes != cut-end || rec.DiscardedBatch != discarded)) {
			fail("recovery report %+v; want torn=%v at %d (%d bytes), discarded batch %v", rec, wantTorn, end, cut-end, discarded)
		}
		checkLog(t, s, evs, true)

		// The log continues after the cut.
		latestA, err := s.Latest(bg, "a")
		wantSeq := uint64(0)
		if err == nil {
			wantSeq = latestA.Sequence + 1
		}
		r, err := s.Append(bg, coord(t, "a", "s"), kindMoved, payload{N: -1})
		if err != nil {
			fail("append after recovery: %v", err)
		}
		if r.Sequence != wantSeq || (len(evs) > 0 && r.Global <= evs[len(evs)-1].Global) {
			fail("append after recovery got sequence %d global %d", r.Sequence, r.Global)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("cut at %d: Close: %v", cut, err)
		}
		s, err = tryOpen(cdir, opts...)
		if err != nil {
			t.Fatalf("cut at %d: reopening after the append: %v", cut, err)
		}
		evs2 := all(t, s)
		if len(evs2) != len(evs)+1 || evs2[len(evs2)-1].ID != r.ID || s.Stats().Recovery.Torn {
			fail("after append and reopen: %d events (want %d, ending with the new one), torn=%v", len(evs2), len(evs)+1, s.Stats().Recovery.Torn)
		}
		for i := range evs {
			if d := sameEvent(evs[i], evs2[i]); d != "" {
				fail("after append and reopen: event %d differs in %s", i, d)
			}
		}
		checkLog(t, s, evs2, true)
		if err := s.Close(); err != nil {
			t.Fatalf("cut at %d: Close: %v", cut, err)
		}
		swept++
		if wantTorn {
			torn++
		}
	}
	figure(t, "truncation offsets swept: %d (%d torn, %d at record boundaries)", swept, torn, swept-torn)
}

// cuts returns the offsets to cut at from from to end: every byte, or a
// sample that still meets every case: each record boundary, the bytes
// around it, inside the frame header, and the middle of the body.
func cuts(fs []frame, from, end int64, everyByte bool) []int64 {
	var out []int64
	if everyByte {
		for c := from; c <= end; c++ {
			out = append(out, c)
		}
		return out
	}
	seen := map[int64]bool{}
	for _, f := range fs {
		for _, c := range []int64{f.Off, f.Off + 1, f.Off + 4, f.Off + 7, f.Off + 8, f.Off + 9, (f.Off + f.End) / 2, f.End - 1, f.End} {
			if c >= from && c <= end && !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	slices.Sort(out)
	return out
}

// inBatchAt reports whether cut falls after a whole BEGIN record and before
// the end of its COMMIT: recovery then discards an uncommitted batch.
func inBatchAt(fs []frame, cut int64) bool {
	in := false
	for _, f := range fs {
		if f.End > cut {
			break
		}
		switch f.Typ {
		case segment.TypeBatchBegin:
			in = true
		case segment.TypeBatchCommit:
			in = false
		}
	}
	return in
}

func TestTruncateSweepRecoversTheWholeCommittedPrefix(t *testing.T) {
	long := os.Getenv("BATPAK_LONG") != ""
	// Every byte offset from the last batch on (BATPAK_LONG: of a longer
	// log, from its first record) on the crash file system, where a copy
	// is cheap; the real file system (where the writer maps and
	// preallocates its segment) at sampled offsets, every byte when long.
	t.Run("Mem", func(t *testing.T) {
		mem := vfs.NewMem()
		// After Close everything is synced: the crash image is a copy.
		truncateSweep(t, mem, memDir, func() (vfs.FS, string) { return mem.CrashClone(vfs.CrashOptions{}), memDir }, long, long, true)
	})
	t.Run("OS", func(t *testing.T) {
		dir := t.TempDir()
		truncateSweep(t, vfs.OS, dir, func() (vfs.FS, string) { return vfs.OS, copyDir(t, dir) }, long, long, long)
	})
}

// corrupt returns a copy of dir whose segment seg went through damage.
func corrupt(t *testing.T, dir, seg string, damage func([]byte) []byte) (string, []byte) {
	t.Helper()
	cdir := copyDir(t, dir)
	name := filepath.Join(cdir, seg)
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	data = damage(data)
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return cdir, data
}

// damaged describes a damaged copy of a store for checkDamageReported.
type damaged struct {
	dir      string
	seg      string // the damaged segment's file name
	data     []byte // its damaged bytes
	segID    uint64
	offset   int64                 // where the damage starts
	original []*batpak.StoredEvent // the store's events before the damage
	victim   batpak.ID             // the event whose frame is damaged; zero if none
	openOnly bool                  // the damage must fail Open whatever the route
}

// checkDamageReported checks C3 on a damaged copy of a store. Without an
// index checkpoint, Open scans every frame and must fail with a
// *CorruptionError naming the segment and offset, changing nothing. With
// the checkpoint a clean Close leaves, Open may trust it instead of
// scanning; then the damage must surface when it is read: every read of
// the damaged event fails with such a *CorruptionError, and no read
// returns another event's data in its place.
func checkDamageReported(t *testing.T, d damaged, checkpoint bool) {
	t.Helper()
	if !checkpoint {
		if err := os.Remove(filepath.Join(d.dir, reader.CheckpointFile)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	wantCorruption := func(what string, err error) {
		t.Helper()
		var ce *batpak.CorruptionError
		if !errors.As(err, &ce) || !errors.Is(err, batpak.ErrCorrupt) {
			t.Fatalf("%s: %v, want a *CorruptionError", what, err)
		}
		if ce.Segment != d.segID || ce.Offset != d.offset {
			t.Fatalf("%s: CorruptionError{Segment: %d, Offset: %d, Lost: %d}, want segment %d at offset %d",
				what, ce.Segment, ce.Offset, ce.Lost, d.segID, d.offset)
		}
	}
	for attempt := range 2 { // the same answer twice: nothing was truncated, no lock left
		s, err := tryOpen(d.dir)
		if err != nil {
			wantCorruption(fmt.Sprintf("Open (attempt %d)", attempt), err)
			continue
		}
		if !checkpoint || d.openOnly {
			n := s.Stats().Events
			s.Close()
			t.Fatalf("Open of the damaged store succeeded with %d of %d events", n, len(d.original))
		}
		// Open trusted the checkpoint: reads must report the damage.
		func() {
			defer s.Close()
			i := 0
			var qerr error
			for ev, err := range s.Query(bg, event.AllEvents()) {
				if err != nil {
					qerr = err
					break
				}
				if i >= len(d.original) || ev.ID != d.original[i].ID || sameEvent(ev, d.original[i]) != "" {
					t.Fatalf("Query: event %d read back as another event (global %d, id %v) after the damage", i, ev.Global, ev.ID)
				}
				i++
			}
			if d.victim.IsZero() {
				if qerr != nil || i != len(d.original) {
					t.Fatalf("Query stopped after %d of %d events: %v", i, len(d.original), qerr)
				}
				return
			}
			wantCorruption("Query over the damaged event", qerr)
			if d.original[i].ID != d.victim {
				t.Fatalf("Query failed at event %d, not at the damaged one", i)
			}
			_, err := s.Get(bg, d.victim)
			wantCorruption("Get of the damaged event", err)
		}()
	}
	if now := readFile(t, vfs.OS, filepath.Join(d.dir, d.seg)); !bytes.Equal(now, d.data) {
		t.Fatal("opening the damaged store changed the damaged segment")
	}
}

func TestCorruptionBeforeTheTailIsReportedNamingSegmentAndOffset(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	for i := range 10 {
		mustAppend(t, s, coord(t, "a", "s"), kindMoved, payload{N: i, Note: "same size"})
	}
	original := all(t, s)
	closeStore(t, s)
	seg := segmentFiles(t, vfs.OS, dir)[0]
	fs := frames(t, readFile(t, vfs.OS, filepath.Join(dir, seg)))
	victim := fs[3]

	for _, tc := range []struct {
		name   string
		damage func([]byte) []byte
	}{
		{"FlippedPayloadBit", func(b []byte) []byte { b[victim.End-2] ^= 0x10; return b }},
		{"FlippedHeaderByte", func(b []byte) []byte { b[victim.Off+8+3] ^= 0xff; return b }},
		{"FlippedChecksum", func(b []byte) []byte { b[victim.Off+5] ^= 0x01; return b }},
		{"FlippedLength", func(b []byte) []byte { b[victim.Off] ^= 0x01; return b }},
		{"LengthAllOnes", func(b []byte) []byte {
			copy(b[victim.Off:], []byte{0xff, 0xff, 0xff, 0xff})
			return b
		}},
		{"ZeroedFrame", func(b []byte) []byte { clear(b[victim.Off:victim.End]); return b }},
		{"StaleFrameCopiedOver", func(b []byte) []byte {
			src := fs[1]
			if src.End-src.Off != victim.End-victim.Off {
				panic("frames differ in size")
			}
			copy(b[victim.Off:victim.End], b[src.Off:src.End])
			return b
		}},
	} {
		for _, checkpoint := range []bool{false, true} {
			name := tc.name + "/Scan"
			if checkpoint {
				name = tc.name + "/Checkpoint"
			}
			t.Run(name, func(t *testing.T) {
				cdir, data := corrupt(t, dir, seg, tc.damage)
				checkDamageReported(t, damaged{
					dir: cdir, seg: seg, data: data, segID: 1, offset: victim.Off,
					original: original, victim: victim.ID,
				}, checkpoint)
			})
		}
	}
}

func TestDamageInASealedSegmentIsReported(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, batpak.WithSegmentSize(64<<10))
	for i := range 150 {
		mustAppend(t, s, coord(t, "a", "s"), kindMoved, make([]byte, 1000+i%2))
	}
	original := all(t, s)
	closeStore(t, s)
	segs := segmentFiles(t, vfs.OS, dir)
	if len(segs) < 3 {
		t.Fatalf("%d segments, want at least 3", len(segs))
	}
	first := readFile(t, vfs.OS, filepath.Join(dir, segs[0]))
	fs := frames(t, first)
	last := fs[len(fs)-1]

	for _, tc := range []struct {
		name   string
		damage func([]byte) []byte
		offset int64
		victim batpak.ID
	}{
		{"TruncatedMidFrame", func(b []byte) []byte { return b[:last.End-10] }, last.Off, last.ID},
		{"LastFrameFlipped", func(b []byte) []byte { b[last.End-1] ^= 0x80; return b }, last.Off, last.ID},
		{"GarbageAppended", func(b []byte) []byte { return append(b, 0, 0, 0, 0, 1, 2, 3) }, last.End, batpak.ID{}},
	} {
		for _, checkpoint := range []bool{false, true} {
			name := tc.name + "/Scan"
			if checkpoint {
				name = tc.name + "/Checkpoint"
			}
			t.Run(name, func(t *testing.T) {
				cdir, data := corrupt(t, dir, segs[0], tc.damage)
				checkDamageReported(t, damaged{
					dir: cdir, seg: segs[0], data: data, segID: 1, offset: tc.offset,
					original: original, victim: tc.victim,
				}, checkpoint)
			})
		}
	}
	t.Run("MissingSegment", func(t *testing.T) {
		cdir := copyDir(t, dir)
		if err := os.Remove(filepath.Join(cdir, segs[1])); err != nil {
			t.Fatal(err)
		}
		s, err := tryOpen(cdir)
		if err == nil {
			s.Close()
			t.Fatal("Open of a store missing a middle segment succeeded")
		}
		if !errors.Is(err, reader.ErrMissingSegment) {
			t.Fatalf("Open: %v, want reader.ErrMissingSegment", err)
		}
	})
}

func TestGarbageTailIsTruncatedAsTorn(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	acked := writeMixed(t, s)
	closeStore(t, s)
	seg := segmentFiles(t, vfs.OS, dir)[0]
	size := int64(len(readFile(t, vfs.OS, filepath.Join(dir, seg))))

	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 3000)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	for _, tc := range []struct {
		name    string
		garbage []byte
		zeros   bool
	}{
		{"Zeros", make([]byte, 4096), true},
		{"FewZeros", make([]byte, 3), true},
		{"Random", random, false},
		{"LengthAllOnes", append([]byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4}, random[:100]...), false},
		{"LengthPastEOF", append([]byte{200, 0, 0, 0, 9, 9, 9, 9}, random[:50]...), false},
		{"HalfAFrameHeader", []byte{40, 0, 0}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cdir, _ := corrupt(t, dir, seg, func(b []byte) []byte { return append(b, tc.garbage...) })
			s := openStore(t, cdir)
			rec := s.Stats().Recovery
			switch {
			case tc.zeros && !rec.Torn:
				// An all-zero tail reads as preallocated space the writer
				// never reached: the log simply ends where the zeros begin.
			case !rec.Torn || rec.TruncatedAt != size || rec.TruncatedBytes != int64(len(tc.garbage)) || rec.DiscardedBatch:
				t.Fatalf("recovery report %+v; want torn at %d, %d bytes cut", rec, size, len(tc.garbage))
			}
			evs := all(t, s)
			if len(evs) != len(acked) {
				t.Fatalf("%d events after cutting the garbage, want %d", len(evs), len(acked))
			}
			closeStore(t, s)
			if now := int64(len(readFile(t, vfs.OS, filepath.Join(cdir, seg)))); now != size {
				t.Fatalf("segment is %d bytes after recovery and Close, want %d", now, size)
			}
			s = openStore(t, cdir)
			r := mustAppend(t, s, coord(t, "player:alice", "room:hall"), kindMoved, payload{N: -1})
			closeStore(t, s)
			s = openStore(t, cdir)
			if s.Stats().Recovery.Torn {
				t.Fatal("torn again after the repair and an append")
			}
			evs = all(t, s)
			if len(evs) != len(acked)+1 || evs[len(evs)-1].ID != r.ID {
				t.Fatalf("%d events after the repair and an append, want %d", len(evs), len(acked)+1)
			}
			checkLog(t, s, evs, true)
		})
	}
}
