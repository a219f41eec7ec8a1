package reliability_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// The bit-flip sweep (C3): every bit of the last synced records, and
// seeded random bits store-wide, must be detected. Each test logs one
// "figures:" line; docs/RELIABILITY.md collects them. BATPAK_LONG=1 runs
// the long sweeps.

// ---------------------------------------------------------------------
// Bit-flip sweep (C3)
// ---------------------------------------------------------------------

// flipStore writes a small store on a MemFS (singles, keyed events and
// batches over a few entities; with segSize small and pad > 0, several
// segments) and closes it cleanly, so everything is synced and a
// checkpoint exists. It returns the file system and the events.
func flipStore(t *testing.T, rounds, pad int, opts ...batpak.Option) (*vfs.MemFS, []*batpak.StoredEvent) {
	t.Helper()
	mem := vfs.NewMem()
	s := openMem(t, mem, opts...)
	ents := []string{"a", "b", "c"}
	for r := range rounds {
		c := coord(t, ents[r%3], "s")
		mustAppend(t, s, c, kindMoved, batchMark{Batch: -1, Of: 1, Pad: make([]byte, pad)})
		if _, err := s.AppendWithOptions(bg, coord(t, ents[(r+1)%3], "t"), kindSpoke, payload{N: r},
			batpak.AppendOptions{IdempotencyKey: fmt.Sprintf("k%d", r)}); err != nil {
			t.Fatal(err)
		}
		n := 2 + r%3
		items := make([]batpak.BatchItem, n)
		for i := range items {
			items[i] = batpak.BatchItem{Coord: coord(t, ents[(r+i)%3], "s"), Kind: kindMarker,
				Payload: batchMark{Batch: r, Item: i, Of: n, Pad: make([]byte, pad)}}
		}
		if _, err := s.AppendBatch(bg, items); err != nil {
			t.Fatal(err)
		}
		mustAppend(t, s, coord(t, ents[(r+2)%3], "s"), kindMoved, payload{N: 1000 + r})
	}
	evs := all(t, s)
	closeStore(t, s)
	return mem, evs
}

// flipOutcome is what one flipped bit led to.
type flipOutcome int

const (
	flipOpenRefused    flipOutcome = iota // Open failed with a *CorruptionError
	flipReadsAndVerify                    // Open trusted the checkpoint; reads of the damaged event and Verify report it
	flipViolation                         // anything else
)

// checkFlip opens img (a damaged copy) and classifies the outcome. victim
// is the event whose frame holds the flipped bit (zero for a marker or the
// segment header). It returns a description of any violation.
func checkFlip(t *testing.T, img *vfs.MemFS, original []*batpak.StoredEvent, victim batpak.ID) (flipOutcome, string) {
	t.Helper()
	s, err := tryOpen(memDir, batpak.WithFS(img), batpak.WithSegmentSize(64<<10))
	if err != nil {
		var ce *batpak.CorruptionError
		if errors.As(err, &ce) && errors.Is(err, batpak.ErrCorrupt) {
			return flipOpenRefused, ""
		}
		return flipViolation, fmt.Sprintf("Open failed without a *CorruptionError: %v", err)
	}
	defer s.Close()
	if rec := s.Stats().Recovery; rec.Torn {
		return flipViolation, fmt.Sprintf("synced damage truncated as a torn tail (silent truncation): %+v", rec)
	}
	isCorrupt := func(err error) bool {
		var ce *batpak.CorruptionError
		return errors.As(err, &ce)
	}
	// Every read: the damaged event fails, every other one is intact.
	for _, want := range original {
		got, err := s.Get(bg, want.ID)
		if want.ID == victim {
			if !isCorrupt(err) {
				return flipViolation, fmt.Sprintf("Get of the damaged event (global %d): %v, want a *CorruptionError", want.Global, err)
			}
			continue
		}
		if err != nil {
			if isCorrupt(err) {
				// Get fills Hash.Prev by reading the entity's previous
				// event, so the damaged event's successor is refused too:
				// a refusal, never a wrong event.
				continue
			}
			return flipViolation, fmt.Sprintf("Get(global %d) of an undamaged event: %v", want.Global, err)
		}
		if d := sameEvent(want, got); d != "" {
			return flipViolation, fmt.Sprintf("Get(global %d) returned a wrong event (%s differs)", want.Global, d)
		}
	}
	i := 0
	var qerr error
	for ev, err := range s.Query(bg, event.AllEvents()) {
		if err != nil {
			qerr = err
			break
		}
		if i >= len(original) || sameEvent(original[i], ev) != "" {
			return flipViolation, fmt.Sprintf("Query: event %d read back wrong (global %d)", i, ev.Global)
		}
		i++
	}
	switch {
	case !victim.IsZero() && !isCorrupt(qerr):
		return flipViolation, fmt.Sprintf("Query over the damaged event: %v after %d events, want a *CorruptionError", qerr, i)
	case victim.IsZero() && qerr != nil && !isCorrupt(qerr):
		return flipViolation, fmt.Sprintf("Query: %v", qerr)
	case qerr == nil && i != len(original):
		return flipViolation, fmt.Sprintf("Query returned %d of %d events without an error", i, len(original))
	}
	rep, err := s.Verify(bg)
	if err != nil && !isCorrupt(err) {
		return flipViolation, fmt.Sprintf("Verify: %v", err)
	}
	if err == nil && rep.OK() {
		return flipViolation, "Verify found nothing"
	}
	return flipReadsAndVerify, ""
}

// flipTarget is one bit to flip.
type flipTarget struct {
	seg    string
	bit    int64 // bit offset in the segment file
	victim batpak.ID
}

// flipCounts accumulates a sweep's figures.
type flipCounts struct {
	tried, refused, readsVerify, violations int
	kinds                                   map[string]int
}

func (fc *flipCounts) run(t *testing.T, mem *vfs.MemFS, original []*batpak.StoredEvent, targets []flipTarget, checkpoint bool) {
	t.Helper()
	if fc.kinds == nil {
		fc.kinds = map[string]int{}
	}
	known := map[batpak.ID]bool{}
	for _, ev := range original {
		known[ev.ID] = true
	}
	data := map[string][]byte{}
	for _, tg := range targets {
		if !tg.victim.IsZero() && !known[tg.victim] {
			t.Fatalf("flip target in the frame of an unknown event %v", tg.victim)
		}
		if data[tg.seg] == nil {
			data[tg.seg] = readFile(t, mem, filepath.Join(memDir, tg.seg))
		}
		img := mem.CrashClone(vfs.CrashOptions{}) // after Close: an exact copy
		if !checkpoint {
			if err := img.Remove(filepath.Join(memDir, reader.CheckpointFile)); err != nil {
				t.Fatal(err)
			}
		}
		b := append([]byte(nil), data[tg.seg]...)
		b[tg.bit/8] ^= 1 << (tg.bit % 8)
		writeFile(t, img, filepath.Join(memDir, tg.seg), b)
		fc.tried++
		out, why := checkFlip(t, img, original, tg.victim)
		switch out {
		case flipOpenRefused:
			fc.refused++
		case flipReadsAndVerify:
			fc.readsVerify++
		default:
			fc.violations++
			kind, _, _ := strings.Cut(why, ":")
			fc.kinds[kind]++
			if fc.violations <= 5 {
				t.Errorf("%s bit %d (byte %d) checkpoint=%v: %s", tg.seg, tg.bit, tg.bit/8, checkpoint, why)
			}
		}
	}
}

// frameTargets returns every bit of the frames fs[from:to] of seg.
func frameTargets(seg string, fs []frame, from, to int) []flipTarget {
	var out []flipTarget
	for _, f := range fs[from:to] {
		for bit := f.Off * 8; bit < f.End*8; bit++ {
			out = append(out, flipTarget{seg: seg, bit: bit, victim: f.ID})
		}
	}
	return out
}

// TestReliabilityBitFlipSweep flips, one at a time, every bit of the last
// synced frames of a cleanly closed store (and, in long mode, seeded
// random bits of every segment), with and without the index checkpoint,
// and requires every flip to be detected (C3): Open refuses with a
// *CorruptionError, or — when the checkpoint lets Open skip the scan —
// every read of the damaged event and Verify report it. No read may ever
// return a wrong event.
//
// The final record of the active segment is left out of the sweep: see
// TestReliabilityBitFlipInFinalRecordIsTruncatedSilently (a known gap).
func TestReliabilityBitFlipSweep(t *testing.T) {
	long := reliabilityLong()
	lastFrames, randomFlips := 8, 400
	if long {
		lastFrames, randomFlips = 24, 5000
	}
	var total flipCounts
	t.Run("LastFrames", func(t *testing.T) {
		mem, original := flipStore(t, 3, 0)
		segs := segmentFiles(t, mem, memDir)
		seg := segs[len(segs)-1]
		fs := frames(t, readFile(t, mem, filepath.Join(memDir, seg)))
		n := len(fs) - 1 // every record but the final one
		targets := frameTargets(seg, fs, max(0, n-lastFrames), n)
		for _, checkpoint := range []bool{false, true} {
			var fc flipCounts
			fc.run(t, mem, original, targets, checkpoint)
			figure(t, "bit flips (last %d frames before the final record, checkpoint=%v): detected %d / tried %d (Open refused %d, reads+Verify %d); violations %d %v",
				lastFrames, checkpoint, fc.refused+fc.readsVerify, fc.tried, fc.refused, fc.readsVerify, fc.violations, fc.kinds)
			total.add(fc)
		}
	})
	t.Run("RandomStoreWide", func(t *testing.T) {
		// Several 64 KiB segments; random bits of every segment's header
		// (its CRC-covered first 32 bytes) and frames.
		mem, original := flipStore(t, 12, 3000, batpak.WithSegmentSize(64<<10))
		segs := segmentFiles(t, mem, memDir)
		type region struct {
			seg    string
			lo, hi int64
			victim batpak.ID
		}
		var regions []region
		for i, seg := range segs {
			data := readFile(t, mem, filepath.Join(memDir, seg))
			regions = append(regions, region{seg: seg, lo: 0, hi: 32})
			fs := frames(t, data)
			if i == len(segs)-1 {
				fs = fs[:len(fs)-1] // the known gap: see the final-record test
			}
			for _, f := range fs {
				regions = append(regions, region{seg: seg, lo: f.Off, hi: f.End, victim: f.ID})
			}
		}
		var weight []int64
		var sum int64
		for _, r := range regions {
			sum += r.hi - r.lo
			weight = append(weight, sum)
		}
		rng := rand.New(rand.NewPCG(7, 11))
		var targets []flipTarget
		for range randomFlips {
			x := rng.Int64N(sum)
			i := 0
			for weight[i] <= x {
				i++
			}
			r := regions[i]
			off := r.lo + (x - (weight[i] - (r.hi - r.lo)))
			targets = append(targets, flipTarget{seg: r.seg, bit: off*8 + int64(rng.IntN(8)), victim: r.victim})
		}
		for _, checkpoint := range []bool{false, true} {
			var fc flipCounts
			fc.run(t, mem, original, targets, checkpoint)
			figure(t, "bit flips (seeded random over %d segments, checkpoint=%v): detected %d / tried %d (Open refused %d, reads+Verify %d); violations %d %v",
				len(segs), checkpoint, fc.refused+fc.readsVerify, fc.tried, fc.refused, fc.readsVerify, fc.violations, fc.kinds)
			total.add(fc)
		}
	})
	t.Run("VerifyDirOnOS", func(t *testing.T) {
		// The same damage on the real file system, checked by VerifyDir
		// (which takes no lock and changes nothing): one bit per byte of
		// the last frames before the final record.
		dir := t.TempDir()
		s := openStore(t, dir)
		for i := range 6 {
			mustAppend(t, s, coord(t, "a", "s"), kindMoved, payload{N: i, Note: "verify"})
		}
		closeStore(t, s)
		seg := segmentFiles(t, vfs.OS, dir)[0]
		data := readFile(t, vfs.OS, filepath.Join(dir, seg))
		fs := frames(t, data)
		var fc flipCounts
		for _, f := range fs[max(0, len(fs)-1-lastFrames/2) : len(fs)-1] {
			for off := f.Off; off < f.End; off++ {
				fc.tried++
				b := append([]byte(nil), data...)
				b[off] ^= 1 << (off % 8)
				if err := os.WriteFile(filepath.Join(dir, seg), b, 0o644); err != nil {
					t.Fatal(err)
				}
				rep, err := batpak.VerifyDir(bg, dir, nil)
				if err != nil || rep.OK() {
					var ce *batpak.CorruptionError
					if !errors.As(err, &ce) && !errors.As(rep.Problem, &ce) {
						fc.violations++
						if fc.violations <= 5 {
							t.Errorf("byte %d flipped: VerifyDir %+v, %v; want the damage reported", off, rep, err)
						}
						continue
					}
				}
				fc.readsVerify++
			}
		}
		if err := os.WriteFile(filepath.Join(dir, seg), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if rep, err := batpak.VerifyDir(bg, dir, nil); err != nil || !rep.OK() {
			t.Fatalf("VerifyDir of the restored store: %+v, %v", rep, err)
		}
		figure(t, "bit flips (VerifyDir on the OS file system): detected %d / tried %d; violations %d", fc.readsVerify, fc.tried, fc.violations)
		total.add(fc)
	})
	figure(t, "bit flips detected %d / tried %d; violations %d", total.refused+total.readsVerify, total.tried, total.violations)
}

func (fc *flipCounts) add(o flipCounts) {
	fc.tried += o.tried
	fc.refused += o.refused
	fc.readsVerify += o.readsVerify
	fc.violations += o.violations
}

// TestReliabilityBitFlipInFinalRecordIsDetected (C3): a flipped bit in the
// last record of the active segment — synced, acknowledged, covered by the
// sync note, after a clean Close — is corruption, not a torn tail: no valid
// frame follows it, but the note proves it was synced. (Before the fix,
// recovery truncated it away, reporting only a torn tail.)
func TestReliabilityBitFlipInFinalRecordIsDetected(t *testing.T) {
	mem, original := flipStore(t, 1, 0)
	// End with a single event so the final record is an event.
	segs := segmentFiles(t, mem, memDir)
	seg := segs[len(segs)-1]
	fs := frames(t, readFile(t, mem, filepath.Join(memDir, seg)))
	last := fs[len(fs)-1]
	data := readFile(t, mem, filepath.Join(memDir, seg))
	note, ok := segment.DecodeSyncNote(data)
	t.Logf("final record at [%d, %d) of %d bytes; sync note %d (valid %v): the record is synced and inside the note", last.Off, last.End, len(data), note, ok)
	var fc flipCounts
	// One bit per byte of the final record keeps the failure output short.
	var targets []flipTarget
	for off := last.Off; off < last.End; off++ {
		targets = append(targets, flipTarget{seg: seg, bit: off*8 + 3, victim: last.ID})
	}
	// What Verify says of such a store.
	img := mem.CrashClone(vfs.CrashOptions{})
	b := append([]byte(nil), data...)
	b[last.Off+20] ^= 0x08
	writeFile(t, img, filepath.Join(memDir, seg), b)
	rep, err := reader.Verify(bg, img, memDir, nil)
	t.Logf("Verify of a copy with a bit of the final record flipped: ok=%v tornTail=%v problem=%v err=%v", rep.OK(), rep.TornTail, rep.Problem, err)
	fc.run(t, mem, original, targets, false)
	fc.run(t, mem, original, targets, true)
	figure(t, "final-record flips detected %d / tried %d; violations %d %v", fc.refused+fc.readsVerify, fc.tried, fc.violations, fc.kinds)
}
