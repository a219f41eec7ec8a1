package reliability_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/vfs"
)

// Crash-point enumeration over compaction (C1, C2, C4): the rotating crash
// workload, then a Compact that drops one whole acknowledged batch and
// merges the sealed segments, then more appends and a checkpointing Close.
// The workload before Compact is enumerated by crash_test.go; here the
// store crashes after every operation from Compact's first on. Every image
// must open with every acknowledged event that Compact keeps, the dropped
// batch whole or gone, and everything acknowledged after Compact.

// droppedBatch is the batch Compact drops: crashWorkload's big one.
const droppedBatch = 100

func compactRetain(ev *batpak.StoredEvent) bool {
	m, err := batpak.Decode[batchMark](ev)
	return err != nil || m.Batch != droppedBatch
}

// compactWorkload runs the crash workload, Compact and more appends; it
// returns what must survive: acknowledged and kept. mark, if not nil, is
// called just before Compact.
func compactWorkload(t *testing.T, s *batpak.Store, mark func()) (kept []batpak.Receipt, batches map[int]bool, err error) {
	acked, batches, err := crashWorkload(t, s, 6000)
	if err != nil {
		return acked, batches, err
	}
	if mark != nil {
		mark()
	}
	rep, err := s.Compact(bg, batpak.CompactOptions{Retain: compactRetain})
	// Until Compact returns, the dropped batch's events are still
	// acknowledged and may survive a crash; once it returned they are gone.
	// Either way they are no longer required. crashWorkload acknowledges
	// 3, 4 and 5 events in its first three rounds, then the big batch.
	kept = append(append(kept, acked[:12]...), acked[12+20:]...)
	delete(batches, droppedBatch)
	if err != nil {
		return kept, batches, err
	}
	if rep.EventsDropped == 0 || rep.SegmentsRemoved == 0 {
		t.Fatalf("Compact dropped %d events and removed %d segments; the workload needs both", rep.EventsDropped, rep.SegmentsRemoved)
	}
	for i := range 3 {
		r, err := s.Append(bg, coord(t, "a", "s"), kindMoved, batchMark{Batch: -1, Of: 1, Item: i})
		if err != nil {
			return kept, batches, err
		}
		kept = append(kept, r)
	}
	return kept, batches, nil
}

func TestReliabilityCrashDuringCompaction(t *testing.T) {
	opts := []batpak.Option{batpak.WithSegmentSize(64 << 10), quiet}
	dry := vfs.NewMem()
	s := openMem(t, dry, opts...)
	from := 0
	acked, _, err := crashWorkload(t, s, 6000)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range acked { // the dropped batch is where compactWorkload says
		ev, err := s.Get(bg, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if m, _ := batpak.Decode[batchMark](ev); (m.Batch == droppedBatch) != (i >= 12 && i < 32) {
			t.Fatalf("receipt %d is of batch %d: crashWorkload changed, fix compactWorkload", i, m.Batch)
		}
	}
	closeStore(t, s)
	dry = vfs.NewMem()
	s = openMem(t, dry, opts...)
	if _, _, err := compactWorkload(t, s, func() { from = dry.Ops() }); err != nil {
		t.Fatal(err)
	}
	closeStore(t, s)
	total := dry.Ops()

	modes := []vfs.CrashOptions{{}, {KeepUnsyncedFraction: 1}}
	if reliabilityLong() {
		for seed := range uint64(10) {
			modes = append(modes, vfs.CrashOptions{KeepUnsyncedFraction: 0.5, Seed: seed, BlockSize: 512})
		}
	}
	points, violations := 0, 0
	for k := from; k <= total; k++ {
		for _, mode := range modes {
			mem := vfs.NewMem()
			mem.SetCrashAfter(k, mode, nil)
			var kept []batpak.Receipt
			var batches map[int]bool
			s, err := tryOpen(memDir, append(opts, batpak.WithFS(mem))...)
			if err == nil {
				kept, batches, _ = compactWorkload(t, s, nil)
				_ = s.Close()
			} else if errors.Is(err, errOpenPanicked) {
				t.Fatalf("crash after op %d: %v", k, err)
			}
			img := mem.Crashed()
			if img == nil {
				t.Fatalf("crash after op %d of %d did not happen", k, total)
			}
			points++
			if err := checkCompactedImage(t, img, kept, batches, opts...); err != nil {
				violations++
				if violations <= 5 {
					t.Errorf("crash after op %d of %d (keep=%v): %v", k, total, mode.KeepUnsyncedFraction, err)
				}
			}
		}
	}
	figure(t, "crash during compaction: ops %d..%d of the workload (Compact on), %d crash modes; crash points exercised %d; violations %d",
		from, total, len(modes), points, violations)
	if points == 0 {
		t.Fatal("no crash point in the compaction window")
	}
}

// checkCompactedImage is checkCrashImage for a log that retention thinned:
// per-entity sequences and chains may skip dropped events, so instead of
// requiring them gap-free it requires them increasing and asks Verify,
// which restarts a chain where retention dropped its predecessors.
func checkCompactedImage(t *testing.T, img vfs.FS, kept []batpak.Receipt, batches map[int]bool, opts ...batpak.Option) error {
	t.Helper()
	s, err := tryOpen(memDir, append(opts, batpak.WithFS(img))...)
	if err != nil {
		return fmt.Errorf("opening the crash image: %w", err)
	}
	defer s.Close()
	evs, err := readAcknowledged(s, kept, batches)
	if err != nil {
		return err
	}
	last := map[string]uint64{}
	for i, ev := range evs {
		if i > 0 && ev.Global <= evs[i-1].Global {
			return fmt.Errorf("sequence reuse: global %d after %d", ev.Global, evs[i-1].Global)
		}
		e := ev.Coordinate.Entity()
		if seq, ok := last[e]; ok && ev.Sequence <= seq {
			return fmt.Errorf("sequence reuse: entity %q sequence %d after %d", e, ev.Sequence, seq)
		}
		last[e] = ev.Sequence
	}
	rep, err := s.Verify(bg)
	if err != nil || !rep.OK() {
		return fmt.Errorf("chain break: Verify: %v %v", err, rep.Problem)
	}
	r, err := s.Append(bg, coord(t, "b", "s"), kindMoved, payload{N: -1})
	if err != nil {
		return fmt.Errorf("appending after recovery: %w", err)
	}
	if len(evs) > 0 && r.Global <= evs[len(evs)-1].Global {
		return fmt.Errorf("sequence reuse: global %d after recovery", r.Global)
	}
	if seq, ok := last["b"]; ok && r.Sequence != seq+1 {
		return fmt.Errorf("sequence reuse: entity b continued at %d after %d", r.Sequence, seq)
	}
	return nil
}
