package reliability_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/vfs"
)

// Crash-point enumeration (C1, C2, C4): a fixed workload of singles and
// atomic batches on the in-memory crash file system, crashed after every
// mutating operation, and crashed again during the recovery that follows.

// crashWorkload is a fixed sequence of singles and batches, each item
// padded with pad bytes. It stops at the first error and returns what was
// acknowledged: receipts and the batches (by number) whose AppendBatch
// returned.
func crashWorkload(t testing.TB, s *batpak.Store, pad int) (acked []batpak.Receipt, ackedBatches map[int]bool, err error) {
	ackedBatches = map[int]bool{}
	a, b, c := coord(t, "a", "s"), coord(t, "b", "s"), coord(t, "c", "t")
	for round := range 4 {
		r, err := s.Append(bg, a, kindMoved, batchMark{Batch: -1, Of: 1, Pad: make([]byte, pad)})
		if err != nil {
			return acked, ackedBatches, err
		}
		acked = append(acked, r)
		n := 2 + round
		items := make([]batpak.BatchItem, n)
		for i := range items {
			co := []batpak.Coordinate{a, b, c}[i%3]
			items[i] = batpak.BatchItem{Coord: co, Kind: kindMarker, Payload: batchMark{Batch: round, Item: i, Of: n, Pad: make([]byte, pad)}}
			if i > 0 {
				items[i].Cause = batpak.CauseItem(i - 1)
			}
		}
		items[0].Options.IdempotencyKey = fmt.Sprintf("batch-%d", round)
		rs, err := s.AppendBatch(bg, items)
		if err != nil {
			return acked, ackedBatches, err
		}
		acked = append(acked, rs...)
		ackedBatches[round] = true
		if round == 2 {
			// A big batch: many frames in one write.
			big := make([]batpak.BatchItem, 20)
			for i := range big {
				big[i] = batpak.BatchItem{Coord: b, Kind: kindMarker, Payload: batchMark{Batch: 100, Item: i, Of: len(big), Pad: make([]byte, pad)}}
			}
			rs, err := s.AppendBatch(bg, big)
			if err != nil {
				return acked, ackedBatches, err
			}
			acked = append(acked, rs...)
			ackedBatches[100] = true
		}
	}
	return acked, ackedBatches, nil
}

// checkCrashImage opens a crash image and checks that every acknowledged
// event is there as acknowledged, no batch is partly there, and the log
// is consistent and can be written again. It reports the first violation.
func checkCrashImage(t *testing.T, img vfs.FS, acked []batpak.Receipt, ackedBatches map[int]bool, opts ...batpak.Option) error {
	t.Helper()
	s, err := tryOpen(memDir, append(opts, batpak.WithFS(img))...)
	if err != nil {
		return fmt.Errorf("opening the crash image: %w", err)
	}
	defer s.Close()
	evs, err := readAcknowledged(s, acked, ackedBatches)
	if err != nil {
		return err
	}
	checkLog(t, s, evs, true)
	r, err := s.Append(bg, coord(t, "a", "s"), kindMoved, payload{N: -1})
	if err != nil {
		return fmt.Errorf("appending after recovery: %w", err)
	}
	if len(evs) > 0 && r.Global <= evs[len(evs)-1].Global {
		return fmt.Errorf("global %d reused after recovery", r.Global)
	}
	return nil
}

// readAcknowledged reads a recovered store's whole log and checks that
// every acknowledged event is in it as acknowledged and that no
// acknowledged batch is missing (batchCounts rejects a partial one). It
// returns the log.
func readAcknowledged(s *batpak.Store, acked []batpak.Receipt, ackedBatches map[int]bool) ([]*batpak.StoredEvent, error) {
	var evs []*batpak.StoredEvent
	byID := map[batpak.ID]*batpak.StoredEvent{}
	for ev, err := range s.Query(bg, event.AllEvents()) {
		if err != nil {
			return nil, fmt.Errorf("reading the recovered log: %w", err)
		}
		if byID[ev.ID] != nil {
			return nil, fmt.Errorf("id reused: %v twice", ev.ID)
		}
		evs = append(evs, ev)
		byID[ev.ID] = ev
	}
	for i, r := range acked {
		ev, ok := byID[r.ID]
		if !ok {
			return nil, fmt.Errorf("acknowledged event %d (global %d) lost", i, r.Global)
		}
		if !receiptMatches(r, ev) {
			return nil, fmt.Errorf("acknowledged event %d recovered with other fields", i)
		}
	}
	counts, err := batchCounts(evs)
	if err != nil {
		return nil, err
	}
	for b := range ackedBatches {
		if counts[b] == 0 {
			return nil, fmt.Errorf("acknowledged batch %d lost", b)
		}
	}
	return evs, nil
}

// crashEnumeration runs crashWorkload on a fresh MemFS crashing after
// each of its operations, with each crash mode, and checks every image.
func crashEnumeration(t *testing.T, pad int, modes map[string]vfs.CrashOptions) {
	opts := []batpak.Option{batpak.WithSegmentSize(64 << 10)}
	// Learn how many file-system operations the workload performs.
	dry := vfs.NewMem()
	s := openMem(t, dry, opts...)
	if _, _, err := crashWorkload(t, s, pad); err != nil {
		t.Fatal(err)
	}
	closeStore(t, s)
	total := dry.Ops()
	segments := len(segmentFiles(t, dry, memDir))

	points, failures := 0, 0
	kinds := map[string]int{} // violations by kind
	for name, crash := range modes {
		for k := 0; k <= total; k++ {
			label := fmt.Sprintf("%s crash after op %d of %d", name, k, total)
			mem := vfs.NewMem()
			mem.SetCrashAfter(k, crash, nil)
			var acked []batpak.Receipt
			var ackedBatches map[int]bool
			s, err := tryOpen(memDir, append(opts, batpak.WithFS(mem))...)
			if err == nil {
				acked, ackedBatches, _ = crashWorkload(t, s, pad)
				_ = s.Close() // errors expected: the file system is gone
			}
			img := mem.Crashed()
			if img == nil {
				t.Fatalf("%s: no crash happened", label)
			}
			points++
			if errors.Is(err, errOpenPanicked) {
				// Open may fail on a crashed file system, but never by panicking.
				err = fmt.Errorf("Open on the crashing file system: %w", err)
			} else {
				err = checkCrashImage(t, img, acked, ackedBatches, opts...)
			}
			if err != nil {
				kind, _, _ := strings.Cut(err.Error(), ":")
				kinds[kind]++
				if failures++; failures <= 5 {
					t.Errorf("%s: %v", label, err)
				}
			}
		}
	}
	figure(t, "crash points exercised: %d (%d operations × %d modes, %d segments); violations: %d %v", points, total+1, len(modes), segments, failures, kinds)
}

func TestCrashAtEveryOperationKeepsBatchesWholeAndAcknowledgedEvents(t *testing.T) {
	modes := map[string]vfs.CrashOptions{
		"Strict":  {},
		"KeepAll": {KeepUnsyncedFraction: 1},
	}
	t.Run("OneSegment", func(t *testing.T) { crashEnumeration(t, 0, modes) })
	// Padded items fill 64 KiB segments: crashes around every rotation.
	t.Run("Rotating", func(t *testing.T) { crashEnumeration(t, 6000, modes) })
}

func TestCrashWithPartialWritebackKeepsBatchesWholeAndAcknowledgedEvents(t *testing.T) {
	// A kinder crash: the kernel wrote back some unsynced blocks and not
	// others, in any order, so the never-acknowledged tail may hold holes
	// of zeros followed by surviving frames. Small blocks tear batches.
	modes := map[string]vfs.CrashOptions{}
	seeds := uint64(3)
	if os.Getenv("BATPAK_LONG") != "" {
		seeds = 50
	}
	for seed := range seeds {
		modes[fmt.Sprintf("Keep50%%Seed%d", seed)] = vfs.CrashOptions{KeepUnsyncedFraction: 0.5, Seed: seed, BlockSize: 64}
	}
	crashEnumeration(t, 0, modes)
}

func TestCrashDuringRecoveryKeepsAcknowledgedEvents(t *testing.T) {
	// Crash once in the middle of a batch commit, then crash again at
	// every operation of the recovery and first append that follow.
	dry := vfs.NewMem()
	s := openMem(t, dry)
	acked, _, err := crashWorkload(t, s, 0)
	if err != nil {
		t.Fatal(err)
	}
	closeStore(t, s)
	// Crash with a torn tail: a copy of the synced log plus half of a
	// batch that was never acknowledged.
	base := dry.CrashClone(vfs.CrashOptions{})
	s = openMem(t, base)
	if _, err := s.AppendBatch(bg, []batpak.BatchItem{
		{Coord: coord(t, "a", "s"), Kind: kindMarker, Payload: batchMark{Batch: 999, Item: 0, Of: 2}},
		{Coord: coord(t, "b", "s"), Kind: kindMarker, Payload: batchMark{Batch: 999, Item: 1, Of: 2}},
	}); err != nil {
		t.Fatal(err)
	}
	closeStore(t, s)
	seg := segmentFiles(t, base, memDir)
	name := memDir + "/" + seg[len(seg)-1]
	data := readFile(t, base, name)
	writeFile(t, base, name, tornCut(data, len(data)-20))

	recovery := func(fs *vfs.MemFS) error {
		s, err := tryOpen(memDir, batpak.WithFS(fs))
		if err != nil {
			return err
		}
		_, err = s.Append(bg, coord(t, "c", "t"), kindMoved, payload{})
		return errors.Join(err, s.Close())
	}
	probe := base.CrashClone(vfs.CrashOptions{})
	if err := recovery(probe); err != nil {
		t.Fatal(err)
	}
	total := probe.Ops()
	for k := 0; k <= total; k++ {
		fs := base.CrashClone(vfs.CrashOptions{})
		fs.SetCrashAfter(k, vfs.CrashOptions{}, nil)
		label := fmt.Sprintf("crash after recovery op %d of %d", k, total)
		if err := recovery(fs); errors.Is(err, errOpenPanicked) {
			// Open may fail on a crashed file system, but never by panicking.
			t.Errorf("%s: %v", label, err)
		}
		img := fs.Crashed()
		if img == nil {
			continue // the recovery finished before op k
		}
		if err := checkCrashImage(t, img, acked, nil); err != nil {
			t.Errorf("%s: %v", label, err)
		}
	}
}
