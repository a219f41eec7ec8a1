package reliability_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/vfs"
)

// openMem opens a store on an in-memory file system in memDir.
func openMem(t testing.TB, fs vfs.FS, opts ...batpak.Option) *batpak.Store {
	t.Helper()
	return openStore(t, memDir, append([]batpak.Option{batpak.WithFS(fs)}, opts...)...)
}

// afterCrash opens the crash image of mem as it is now and returns the
// events it holds, by id.
func afterCrash(t testing.TB, mem *vfs.MemFS) map[batpak.ID]*batpak.StoredEvent {
	t.Helper()
	s := openMem(t, mem.CrashClone(vfs.CrashOptions{}))
	defer s.Close()
	out := map[batpak.ID]*batpak.StoredEvent{}
	for _, ev := range all(t, s) {
		out[ev.ID] = ev
	}
	return out
}

func TestDurableAppendIsOnDiskWhenAcknowledged(t *testing.T) {
	mem := vfs.NewMem()
	s := openMem(t, mem)
	c := coord(t, "e", "s")
	var acked []batpak.Receipt
	for i := range 5 {
		acked = append(acked, mustAppend(t, s, c, kindMoved, payload{N: i}))
		rs, err := s.AppendBatch(bg, []batpak.BatchItem{
			{Coord: c, Kind: kindMarker, Payload: batchMark{Batch: i, Item: 0, Of: 2}},
			{Coord: coord(t, "f", "s"), Kind: kindMarker, Payload: batchMark{Batch: i, Item: 1, Of: 2}},
		})
		if err != nil {
			t.Fatal(err)
		}
		acked = append(acked, rs...)
		got := afterCrash(t, mem)
		for _, r := range acked {
			if ev, ok := got[r.ID]; !ok || !receiptMatches(r, ev) {
				t.Fatalf("acknowledged event %d (global %d) lost by a crash right after its receipt", len(acked), r.Global)
			}
		}
	}
}

func TestSyncMakesOnWriteAppendsDurable(t *testing.T) {
	mem := vfs.NewMem()
	s := openMem(t, mem, batpak.WithDurability(batpak.OnWrite), batpak.WithSyncEvery(0, 0))
	c := coord(t, "e", "s")
	var acked []batpak.Receipt
	for i := range 5 {
		acked = append(acked, mustAppend(t, s, c, kindMoved, payload{N: i}))
	}
	// On-write appends are visible at once.
	if got := len(all(t, s)); got != 5 {
		t.Fatalf("%d of 5 on-write events visible", got)
	}
	t.Logf("before Sync, a crash keeps %d of 5 on-write events", len(afterCrash(t, mem)))
	if err := s.Sync(bg); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	got := afterCrash(t, mem)
	for i, r := range acked {
		if _, ok := got[r.ID]; !ok {
			t.Fatalf("on-write event %d lost by a crash after Sync returned", i)
		}
	}
}

func TestDurabilityOverridePerCall(t *testing.T) {
	t.Run("DurableInOnWriteStore", func(t *testing.T) {
		mem := vfs.NewMem()
		s := openMem(t, mem, batpak.WithDurability(batpak.OnWrite), batpak.WithSyncEvery(0, 0))
		c := coord(t, "e", "s")
		mustAppend(t, s, c, kindMoved, payload{N: 0})
		r, err := s.AppendWithOptions(bg, c, kindMoved, payload{N: 1}, batpak.AppendOptions{Durability: batpak.Durable})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := afterCrash(t, mem)[r.ID]; !ok {
			t.Fatal("an append with a Durable override was lost by a crash after its receipt")
		}
		rs, err := s.SubmitBatch(bg, []batpak.BatchItem{{Coord: c, Kind: kindMoved, Payload: payload{N: 2}}}, batpak.Durable)
		if err != nil {
			t.Fatal(err)
		}
		rb, err := rs.Wait(bg)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := afterCrash(t, mem)[rb.ID]; !ok {
			t.Fatal("a batch submitted Durable was lost by a crash after its receipt")
		}
	})
	t.Run("OnWriteInDurableStore", func(t *testing.T) {
		dir := t.TempDir()
		s := openStore(t, dir)
		c := coord(t, "e", "s")
		r, err := s.AppendWithOptions(bg, c, kindMoved, payload{N: 1}, batpak.AppendOptions{Durability: batpak.OnWrite})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(bg, r.ID); err != nil {
			t.Fatalf("on-write event not visible after its receipt: %v", err)
		}
		closeStore(t, s)
		s = openStore(t, dir)
		if _, err := s.Get(bg, r.ID); err != nil {
			t.Fatalf("on-write event gone after a clean Close: %v", err)
		}
	})
}

func TestOnWriteStoreRoundTripsAndReopens(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, batpak.WithDurability(batpak.OnWrite))
	var acked []batpak.Receipt
	for i := range 100 {
		c := coord(t, "e"+string(rune('a'+i%3)), "s")
		acked = append(acked, mustAppend(t, s, c, kindMoved, payload{N: i}))
	}
	rs, err := s.AppendBatch(bg, []batpak.BatchItem{
		{Coord: coord(t, "ea", "s"), Kind: kindMoved, Payload: payload{N: 100}},
		{Coord: coord(t, "eb", "s"), Kind: kindMoved, Payload: payload{N: 101}},
	})
	if err != nil {
		t.Fatal(err)
	}
	acked = append(acked, rs...)
	if err := s.Sync(bg); err != nil {
		t.Fatal(err)
	}
	checkLog(t, s, all(t, s), true)
	closeStore(t, s)

	s = openStore(t, dir)
	evs := all(t, s)
	if len(evs) != len(acked) {
		t.Fatalf("reopened: %d events, want %d", len(evs), len(acked))
	}
	for i, r := range acked {
		if !receiptMatches(r, evs[i]) {
			t.Fatalf("reopened: event %d differs from its receipt", i)
		}
	}
	checkLog(t, s, evs, true)
}

func TestAppendWithCancelledContextWritesNothing(t *testing.T) {
	s := openStore(t, t.TempDir())
	ctx, cancel := context.WithCancel(bg)
	cancel()
	c := coord(t, "e", "s")
	if _, err := s.Append(ctx, c, kindMoved, payload{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with a cancelled context: %v, want context.Canceled", err)
	}
	if _, err := s.AppendBatch(ctx, []batpak.BatchItem{{Coord: c, Kind: kindMoved, Payload: payload{}}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("AppendBatch with a cancelled context: %v, want context.Canceled", err)
	}
	if _, err := s.Get(ctx, event.NewID()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get with a cancelled context: %v, want context.Canceled", err)
	}
	if err := s.Sync(bg); err != nil {
		t.Fatal(err)
	}
	if n := s.Stats().Events; n != 0 {
		t.Fatalf("calls whose context was cancelled before they began wrote %d events", n)
	}
}

// durableIDs parses the segments of a crash image and returns the ids of
// the events committed in it.
func durableIDs(t testing.TB, img vfs.FS) map[batpak.ID]bool {
	t.Helper()
	out := map[batpak.ID]bool{}
	for _, name := range segmentFiles(t, img, memDir) {
		data := readFile(t, img, filepath.Join(memDir, name))
		got, _ := committedBefore(frames(t, data), int64(len(data)))
		for id := range got {
			out[id] = true
		}
	}
	return out
}

func TestDurableReadersNeverSeeAnEventACrashWouldErase(t *testing.T) {
	mem := vfs.NewMem()
	s := openMem(t, mem, batpak.WithSegmentSize(64<<10))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 150 {
				c := coord(t, fmt.Sprintf("w%d", w), "s")
				var err error
				if i%5 == 4 {
					_, err = s.AppendBatch(bg, []batpak.BatchItem{
						{Coord: c, Kind: kindMoved, Payload: make([]byte, 200)},
						{Coord: coord(t, "shared", "s"), Kind: kindMoved, Payload: make([]byte, 200)},
					})
				} else {
					_, err = s.Append(bg, c, kindMoved, make([]byte, 200))
				}
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	checks := 0
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		// What a reader sees now must survive a crash taken afterwards.
		visible := ids(all(t, s))
		durable := durableIDs(t, mem.CrashClone(vfs.CrashOptions{}))
		for _, id := range visible {
			if !durable[id] {
				t.Fatalf("check %d: event %v visible to readers but not durable", checks, id)
			}
		}
		checks++
	}
	if n := s.Stats().Events; n != 4*150+4*30 {
		t.Fatalf("%d events, want %d", n, 4*150+4*30)
	}
	t.Logf("%d visibility checks against crash images", checks)
}
