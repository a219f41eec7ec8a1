package reliability_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/compact"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/vfs"
	"github.com/stretchr/testify/require"
)

const compactMemDir = "/compact"

// TestCompactionCrashAtEveryOperationKeepsEveryKeptEvent crashes the file
// system after each mutating operation of Open + Compact + Close, and
// checks the image: it opens, holds every event compaction keeps exactly
// once and byte-identical, holds nothing that was never written, and
// verifies; a second open finds nothing left to repair. The frames are
// compared through the index recovery builds (see indexview_test.go).
func TestCompactionCrashAtEveryOperationKeepsEveryKeptEvent(t *testing.T) {
	ctx := context.Background()
	base := vfs.NewMem()
	opts := []batpak.Option{batpak.WithFS(base), batpak.WithSegmentSize(64 << 10)}
	s, err := batpak.Open(compactMemDir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	mixedCompactWorkload(t, s, "a", 700)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// What the store holds when Compact starts, and what Compact keeps:
	// from the index that Open's recovery builds of the closed store.
	rec, err := recoverIndex(t, base.CrashClone(vfs.CrashOptions{}), compactMemDir)
	require.NoError(t, err)
	before, keep := indexedFrames(t, rec), expectKept(t, rec, allWritten(t, rec))

	run := func(fs *vfs.MemFS) error {
		s, err := batpak.Open(compactMemDir, batpak.WithFS(fs), batpak.WithSegmentSize(64<<10))
		if err != nil {
			return err
		}
		_, err = s.Compact(ctx, batpak.CompactOptions{Retain: mixedRetain, TargetSize: 160 << 10})
		return errors.Join(err, s.Close())
	}
	probe := base.CrashClone(vfs.CrashOptions{})
	if err := run(probe); err != nil {
		t.Fatal(err)
	}
	total := probe.Ops()
	modes := map[string]vfs.CrashOptions{"Strict": {}, "KeepAll": {KeepUnsyncedFraction: 1}}
	points, repaired := 0, 0
	for name, mode := range modes {
		for k := 0; k <= total; k++ {
			fs := base.CrashClone(vfs.CrashOptions{})
			fs.SetCrashAfter(k, mode, nil)
			_ = run(fs)
			img := fs.Crashed()
			if img == nil {
				continue
			}
			points++
			left, err := checkCompactImage(t, img, keep, before)
			if err != nil {
				t.Errorf("%s crash after op %d of %d: %v", name, k, total, err)
			}
			if left {
				repaired++
			}
		}
	}
	t.Logf("crash points exercised: %d (%d operations); %d images held compaction leftovers", points, total, repaired)
	if repaired == 0 {
		t.Fatal("no crash point fell inside a compaction: the test exercises nothing")
	}
}

// checkCompactImage opens a crash image and checks it against what the
// compaction keeps (keep) and what was there before (before).
func checkCompactImage(t *testing.T, img *vfs.MemFS, keep map[uint64]bool, before map[uint64][]byte) (leftovers bool, err error) {
	// The index Open's recovery builds of the image: recovery run on an
	// exact copy (the clone of a crash image is the image), since Open
	// below recovers the image itself.
	rec, err := recoverIndex(t, img.CrashClone(vfs.CrashOptions{}), compactMemDir)
	if err != nil {
		return false, fmt.Errorf("open: %w", err)
	}
	s, err := batpak.Open(compactMemDir, batpak.WithFS(img), batpak.WithSegmentSize(64<<10))
	if err != nil {
		return false, fmt.Errorf("open: %w", err)
	}
	leftovers = len(s.Stats().Recovery.CompactionLeftovers) > 0
	return leftovers, checkCompactStore(img, s, rec, keep, before)
}

func checkCompactStore(img *vfs.MemFS, s *batpak.Store, rec *reader.Recovered, keep map[uint64]bool, before map[uint64][]byte) error {
	ctx := context.Background()
	got := map[uint64]bool{}
	for e := range rec.Index.Query(event.AllEvents(), 0) {
		if got[e.Global] {
			s.Close()
			return fmt.Errorf("event %d twice", e.Global)
		}
		got[e.Global] = true
		b, err := rec.Segments.ReadFrame(e)
		if err != nil || !bytes.Equal(b, before[e.Global]) {
			s.Close()
			return fmt.Errorf("event %d not as written (%v)", e.Global, err)
		}
	}
	for g, k := range keep {
		if k && !got[g] {
			s.Close()
			return fmt.Errorf("kept event %d lost", g)
		}
	}
	rep, err := s.Verify(ctx)
	if err == nil && !rep.OK() {
		err = rep.Problem
	}
	if err := errors.Join(err, s.Close()); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	s, err = batpak.Open(compactMemDir, batpak.WithFS(img), batpak.WithSegmentSize(64<<10))
	if err != nil {
		return fmt.Errorf("second open: %w", err)
	}
	defer s.Close()
	if left := s.Stats().Recovery.CompactionLeftovers; len(left) > 0 {
		return fmt.Errorf("leftovers survived the first recovery: %v", left)
	}
	return nil
}

// allWritten lists the events of a recovered store as the workload
// recorded them.
func allWritten(t *testing.T, rec *reader.Recovered) []written {
	t.Helper()
	var ws []written
	for e := range rec.Index.Query(event.AllEvents(), 0) {
		ev, err := rec.Segments.Read(rec.Index, e)
		require.NoError(t, err, "reading global %d", e.Global)
		ws = append(ws, written{id: ev.ID, global: ev.Global, entity: ev.Coordinate.Entity(),
			coord: ev.Coordinate, seq: ev.Sequence})
	}
	// Batches: the index does not say which events were batched; the
	// frames do. Mark them from the segment bytes.
	batch := 0
	for _, info := range rec.Segments.Live() {
		data, err := rec.Segments.Bytes(uint64(info.ID))
		if err != nil {
			t.Fatal(err)
		}
		p, err := compact.PlanSegment(info, data, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Ranges() {
			if data[r.Off+8] != 2 { // not a BEGIN: a single event
				continue
			}
			batch++
			for i := range ws {
				if e, _ := rec.Index.LookupID(ws[i].id); e.Segment == info.ID && int64(e.Offset) > r.Off && int64(e.Offset) < r.Off+r.Size {
					ws[i].batch = batch
				}
			}
		}
	}
	return ws
}

// TestCompactWhileAppendingAndReading runs compactions while producers
// append and readers read (run it with -race): every acknowledged event
// that Retain keeps is there afterwards, and reads never fail.
func TestCompactWhileAppendingAndReading(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := batpak.Open(dir, batpak.WithSegmentSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	victims := map[batpak.ID]bool{}
	for range 300 {
		r, err := s.Append(ctx, event.MustCoordinate("victim", "v"), compactKind, bytes.Repeat([]byte{1}, 300))
		if err != nil {
			t.Fatal(err)
		}
		victims[r.ID] = true
	}
	retain := func(ev *batpak.StoredEvent) bool { return ev.Coordinate.Entity() != "victim" }
	var (
		mu    sync.Mutex
		acked []batpak.ID
		wg    sync.WaitGroup
		stop  = make(chan struct{})
		errc  = make(chan error, 8)
	)
	for p := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r, err := s.Append(ctx, event.MustCoordinate(fmt.Sprintf("p%d", p), "w"), compactKind, bytes.Repeat([]byte{2}, 300))
				if err != nil {
					errc <- err
					return
				}
				mu.Lock()
				acked = append(acked, r.ID)
				mu.Unlock()
			}
		}()
	}
	wg.Add(1)
	go func() { // a reader of acknowledged events
		defer wg.Done()
		rng := rand.New(rand.NewPCG(1, 2))
		for {
			select {
			case <-stop:
				return
			default:
			}
			mu.Lock()
			var id batpak.ID
			if len(acked) > 0 {
				id = acked[rng.IntN(len(acked))]
			}
			mu.Unlock()
			if id.IsZero() {
				continue
			}
			if _, err := s.Get(ctx, id); err != nil {
				errc <- fmt.Errorf("Get during compaction: %w", err)
				return
			}
		}
	}()
	// Compact over and over while the producers seal new segments, until
	// enough has been appended alongside.
	for n := 0; n < 200; n++ {
		if _, err := s.Compact(ctx, batpak.CompactOptions{Retain: retain, TargetSize: 256 << 10}); err != nil {
			t.Error(err)
			break
		}
		mu.Lock()
		enough := len(acked) >= 1500
		mu.Unlock()
		if enough {
			break
		}
	}
	close(stop)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	check := func(s *batpak.Store) {
		t.Helper()
		gone := 0
		for id := range victims {
			if _, err := s.Get(ctx, id); errors.Is(err, batpak.ErrNotFound) {
				gone++
			}
		}
		if gone == 0 {
			t.Fatal("no event of the dropped entity was dropped")
		}
		for _, id := range acked {
			if _, err := s.Get(ctx, id); err != nil {
				t.Fatalf("acknowledged event lost: %v", err)
			}
		}
		if rep, err := s.Verify(ctx); err != nil || !rep.OK() {
			t.Fatalf("verify: %v %v", err, rep.Problem)
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = batpak.Open(dir, batpak.WithSegmentSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check(s)
	t.Logf("%d events appended during compaction", len(acked))
}
