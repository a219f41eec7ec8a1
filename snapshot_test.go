package batpak_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/snapshot"
	"github.com/batpak-go/batpak/vfs"
)

// snapPayload is the payload of the snapshot tests' events.
type snapPayload struct {
	W int `json:"w" msgpack:"w"`
	I int `json:"i" msgpack:"i"`
}

// snapEvents returns the events of the store in dir (on fs), opened for
// writing, and fails the test if recovery found a torn tail.
func snapEvents(t *testing.T, dir string, opts ...batpak.Option) []*batpak.StoredEvent {
	t.Helper()
	s := openStore(t, dir, opts...)
	if rep := s.Stats().Recovery; rep.Torn || len(rep.RemovedSegments) > 0 {
		t.Fatalf("opening the snapshot found a torn tail: %s", rep)
	}
	evs := all(t, s)
	checkLog(t, s, evs, true)
	closeStore(t, s)
	return evs
}

// sameEventsUpTo asserts that got is exactly the events of want with a
// global sequence up to last: same ids, globals and payloads.
func sameEventsUpTo(t *testing.T, got, want []*batpak.StoredEvent, last uint64) {
	t.Helper()
	var prefix []*batpak.StoredEvent
	for _, ev := range want {
		if ev.Global <= last {
			prefix = append(prefix, ev)
		}
	}
	if len(got) != len(prefix) {
		t.Fatalf("snapshot holds %d events, the store %d up to global %d", len(got), len(prefix), last)
	}
	for i := range got {
		g, w := got[i], prefix[i]
		if g.ID != w.ID || g.Global != w.Global || !bytes.Equal(g.Payload, w.Payload) || g.Hash.Self != w.Hash.Self {
			t.Fatalf("snapshot event %d is %v (global %d), the store's %v (global %d)", i, g.ID, g.Global, w.ID, w.Global)
		}
	}
	if len(got) > 0 && got[len(got)-1].Global != last {
		t.Fatalf("snapshot's newest event is %d, the manifest says %d", got[len(got)-1].Global, last)
	}
}

func TestSnapshotUnderConcurrentAppends(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	dest := filepath.Join(t.TempDir(), "snap")
	s := openStore(t, dir, batpak.WithSegmentSize(64<<10))

	// Some history first, across several segments, ending in a batch.
	for i := range 800 {
		mustAppend(t, s, coord(t, fmt.Sprintf("player:%d", i%7), "room:1"), kindMoved, snapPayload{W: -1, I: i})
	}
	if _, err := s.AppendBatch(bg, []batpak.BatchItem{
		{Coord: coord(t, "player:0", "room:1"), Kind: kindSpoke, Payload: snapPayload{W: -1, I: 1000}},
		{Coord: coord(t, "player:1", "room:1"), Kind: kindSpoke, Payload: snapPayload{W: -1, I: 1001}},
	}); err != nil {
		t.Fatal(err)
	}

	var (
		mu    sync.Mutex
		acked []batpak.Receipt // in the order they were acknowledged
		stop  atomic.Bool
		wg    sync.WaitGroup
		errs  = make(chan error, 8)
	)
	const writers = 6
	for w := range writers {
		wg.Go(func() {
			c := coord(t, fmt.Sprintf("writer:%d", w), "room:2")
			for i := 0; !stop.Load(); i++ {
				var rs []batpak.Receipt
				var err error
				if i%5 == 4 {
					rs, err = s.AppendBatch(bg, []batpak.BatchItem{
						{Coord: c, Kind: kindSpoke, Payload: snapPayload{W: w, I: i}},
						{Coord: coord(t, fmt.Sprintf("writer:%d:b", w), "room:2"), Kind: kindSpoke, Payload: snapPayload{W: w, I: i}},
						{Coord: c, Kind: kindSpoke, Payload: snapPayload{W: w, I: i}},
					})
				} else {
					var r batpak.Receipt
					r, err = s.Append(bg, c, kindMoved, snapPayload{W: w, I: i})
					rs = []batpak.Receipt{r}
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				acked = append(acked, rs...)
				mu.Unlock()
			}
		})
	}
	waitAcked := func(n int) {
		for deadline := time.Now().Add(30 * time.Second); ; {
			mu.Lock()
			got := len(acked)
			mu.Unlock()
			if got >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("only %d appends acknowledged", got)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitAcked(300)

	mu.Lock()
	before := append([]batpak.Receipt(nil), acked...)
	mu.Unlock()
	man, err := s.Snapshot(bg, dest)
	mu.Lock()
	during := len(acked)
	mu.Unlock()
	if err != nil {
		stop.Store(true)
		wg.Wait()
		t.Fatalf("Snapshot: %v", err)
	}
	waitAcked(during + 100) // the writers carry on past the snapshot
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("append: %v", err)
	}
	if len(man.Files) < 2 {
		t.Fatalf("snapshot has %d segment files; the test wants several", len(man.Files))
	}
	for _, r := range before {
		if r.Global > man.LastGlobal {
			t.Fatalf("receipt %d acknowledged before Snapshot lies past its last global %d", r.Global, man.LastGlobal)
		}
	}

	if _, err := batpak.VerifySnapshot(bg, dest); err != nil {
		t.Fatalf("VerifySnapshot: %v", err)
	}
	rep, err := batpak.VerifyDir(bg, dest, nil)
	if err != nil || !rep.OK() || rep.TornTail {
		t.Fatalf("VerifyDir(snapshot) = %+v, %v", rep, err)
	}
	want := all(t, s)
	closeStore(t, s)
	got := snapEvents(t, dest)
	sameEventsUpTo(t, got, want, man.LastGlobal)
	ids := make(map[batpak.ID]uint64, len(got))
	for _, ev := range got {
		ids[ev.ID] = ev.Global
	}
	for _, r := range before {
		if g, ok := ids[r.ID]; !ok || g != r.Global {
			t.Fatalf("receipt %v (global %d) acknowledged before Snapshot is missing from it", r.ID, r.Global)
		}
	}
}

func TestSnapshotRefusesBadDestinations(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	mustAppend(t, s, coord(t, "player:1", "room:1"), kindMoved, snapPayload{I: 1})

	for _, dest := range []string{dir, filepath.Join(dir, "snap"), filepath.Join(dir, "a", "b"), dir + string(filepath.Separator) + "."} {
		if _, err := s.Snapshot(bg, dest); !errors.Is(err, batpak.ErrSnapshotInsideStore) {
			t.Errorf("Snapshot(%s) = %v, want ErrSnapshotInsideStore", dest, err)
		}
	}
	if _, err := s.Snapshot(bg, ""); !errors.Is(err, batpak.ErrInvalidOption) {
		t.Errorf("Snapshot(\"\") = %v, want ErrInvalidOption", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "snap")); !os.IsNotExist(err) {
		t.Errorf("a refused snapshot created its destination: %v", err)
	}
	// Through a symbolic link to the store.
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err == nil {
		if _, err := s.Snapshot(bg, filepath.Join(link, "snap")); !errors.Is(err, batpak.ErrSnapshotInsideStore) {
			t.Errorf("Snapshot through a link = %v, want ErrSnapshotInsideStore", err)
		}
	}

	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "x"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Snapshot(bg, full); !errors.Is(err, batpak.ErrSnapshotNotEmpty) {
		t.Errorf("Snapshot into a non-empty directory = %v, want ErrSnapshotNotEmpty", err)
	}
	// A store's parent is not empty either.
	if _, err := s.Snapshot(bg, filepath.Dir(dir)); !errors.Is(err, batpak.ErrSnapshotNotEmpty) {
		t.Errorf("Snapshot into the store's parent = %v, want ErrSnapshotNotEmpty", err)
	}
	// A second snapshot into the same destination is refused.
	dest := filepath.Join(t.TempDir(), "snap")
	if _, err := s.Snapshot(bg, dest); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Snapshot(bg, dest); !errors.Is(err, batpak.ErrSnapshotNotEmpty) {
		t.Errorf("second Snapshot into %s = %v, want ErrSnapshotNotEmpty", dest, err)
	}
	// An existing empty directory is fine.
	if _, err := s.Snapshot(bg, t.TempDir()); err != nil {
		t.Errorf("Snapshot into an empty directory: %v", err)
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, err := s.Snapshot(ctx, filepath.Join(t.TempDir(), "snap")); !errors.Is(err, context.Canceled) {
		t.Errorf("Snapshot with a cancelled context = %v", err)
	}
	closeStore(t, s)
	if _, err := s.Snapshot(bg, filepath.Join(t.TempDir(), "snap")); !errors.Is(err, batpak.ErrClosed) {
		t.Errorf("Snapshot after Close = %v, want ErrClosed", err)
	}
}

func TestSnapshotManifestChecksums(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(t.TempDir(), "snap")
	s := openStore(t, dir, batpak.WithSegmentSize(64<<10))
	for i := range 1200 {
		mustAppend(t, s, coord(t, fmt.Sprintf("player:%d", i%3), "room:1"), kindMoved, snapPayload{I: i})
	}
	man, err := s.Snapshot(bg, dest)
	if err != nil {
		t.Fatal(err)
	}
	if man.Version != snapshot.ManifestVersion || man.Store != dir || man.LastGlobal != 1200 || man.Created.IsZero() {
		t.Fatalf("manifest = %+v", man)
	}
	// The manifest on disk is the one returned.
	b, err := os.ReadFile(filepath.Join(dest, snapshot.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var onDisk snapshot.Manifest
	if err := json.Unmarshal(b, &onDisk); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(onDisk.Files) != fmt.Sprint(man.Files) || onDisk.LastGlobal != man.LastGlobal {
		t.Fatalf("manifest on disk %+v, returned %+v", onDisk, man)
	}
	// Only segments were copied, each as the manifest says.
	names, _ := os.ReadDir(dest)
	if len(names) != len(man.Files)+1 {
		t.Errorf("snapshot holds %d entries for %d files and the manifest", len(names), len(man.Files))
	}
	for _, f := range man.Files {
		data, err := os.ReadFile(filepath.Join(dest, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if int64(len(data)) != f.Size || hex.EncodeToString(sum[:]) != f.SHA256 {
			t.Errorf("%s: %d bytes, sha256 %x; manifest %+v", f.Name, len(data), sum, f)
		}
	}
	if _, err := batpak.VerifySnapshot(bg, dest); err != nil {
		t.Fatalf("VerifySnapshot: %v", err)
	}

	// Damage is found (the kinds of mismatch are tested in package snapshot).
	last := filepath.Join(dest, man.Files[len(man.Files)-1].Name)
	data, _ := os.ReadFile(last)
	data[len(data)-1] ^= 0xFF
	if err := os.WriteFile(last, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := batpak.VerifySnapshot(bg, dest); !errors.Is(err, batpak.ErrSnapshotMismatch) {
		t.Errorf("VerifySnapshot of a damaged snapshot = %v, want ErrSnapshotMismatch", err)
	}
}

func TestSnapshotOnMemFS(t *testing.T) {
	mem := vfs.NewMem()
	fsOpt := batpak.WithFS(mem)
	s := openStore(t, memDir, fsOpt)

	// An empty store gives an empty snapshot that opens.
	man, err := s.Snapshot(bg, "/empty")
	if err != nil || man.LastGlobal != 0 || len(man.Files) != 0 {
		t.Fatalf("Snapshot of an empty store = %+v, %v", man, err)
	}
	if _, err := batpak.VerifySnapshot(bg, "/empty", fsOpt); err != nil {
		t.Fatal(err)
	}
	if evs := snapEvents(t, "/empty", fsOpt); len(evs) != 0 {
		t.Fatalf("empty snapshot holds %d events", len(evs))
	}

	for i := range 50 {
		mustAppend(t, s, coord(t, fmt.Sprintf("player:%d", i%4), "room:1"), kindMoved, snapPayload{I: i})
	}
	// The newest event ends a batch: the copy must keep its COMMIT.
	if _, err := s.AppendBatch(bg, []batpak.BatchItem{
		{Coord: coord(t, "player:0", "room:1"), Kind: kindSpoke, Payload: snapPayload{I: 100}},
		{Coord: coord(t, "player:9", "room:1"), Kind: kindSpoke, Payload: snapPayload{I: 101}},
	}); err != nil {
		t.Fatal(err)
	}
	// On-write appends are included, made durable by the snapshot's sync.
	r := mustAppendOnWrite(t, s, coord(t, "player:3", "room:1"))
	if _, err := s.AppendBatch(bg, []batpak.BatchItem{
		{Coord: coord(t, "player:1", "room:1"), Kind: kindSpoke, Payload: snapPayload{I: 200}},
		{Coord: coord(t, "player:2", "room:1"), Kind: kindSpoke, Payload: snapPayload{I: 201}},
	}); err != nil {
		t.Fatal(err)
	}
	man, err = s.Snapshot(bg, "/backups/one")
	if err != nil {
		t.Fatal(err)
	}
	if man.LastGlobal != r.Global+2 {
		t.Fatalf("manifest's last global %d, want %d", man.LastGlobal, r.Global+2)
	}
	if _, err := batpak.VerifySnapshot(bg, "/backups/one", fsOpt); err != nil {
		t.Fatalf("VerifySnapshot: %v", err)
	}
	if _, err := s.Snapshot(bg, memDir+"/inner"); !errors.Is(err, batpak.ErrSnapshotInsideStore) {
		t.Errorf("Snapshot inside the store = %v", err)
	}
	if _, err := s.Snapshot(bg, "/backups"); !errors.Is(err, batpak.ErrSnapshotNotEmpty) {
		t.Errorf("Snapshot into a non-empty directory = %v", err)
	}
	mustAppend(t, s, coord(t, "player:1", "room:1"), kindMoved, snapPayload{I: 300}) // after: not in it
	want := all(t, s)
	closeStore(t, s)
	names, err := mem.List("/backups/one")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if n == "LOCK" || n == "CHECKPOINT" || n == "SEQUENCE" || n == "cursors" {
			t.Errorf("snapshot holds %s", n)
		}
	}
	rep, err := batpak.OpenReadOnly("/backups/one", fsOpt)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(all(t, rep)); n != 55 {
		t.Errorf("read-only open of the snapshot sees %d events, want 55", n)
	}
	rep.Close()
	got := snapEvents(t, "/backups/one", fsOpt)
	sameEventsUpTo(t, got, want, man.LastGlobal)
	if len(got) != len(want)-1 {
		t.Fatalf("snapshot holds %d events, want %d", len(got), len(want)-1)
	}

	// A read-only store can be snapshotted too.
	ro, err := batpak.OpenReadOnly(memDir, fsOpt)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	man, err = ro.Snapshot(bg, "/backups/two")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := batpak.VerifySnapshot(bg, "/backups/two", fsOpt); err != nil {
		t.Fatal(err)
	}
	sameEventsUpTo(t, snapEvents(t, "/backups/two", fsOpt), want, man.LastGlobal)
	if man.LastGlobal != want[len(want)-1].Global {
		t.Errorf("read-only snapshot ends at %d, the store at %d", man.LastGlobal, want[len(want)-1].Global)
	}
}

func mustAppendOnWrite(t *testing.T, s *batpak.Store, c batpak.Coordinate) batpak.Receipt {
	t.Helper()
	r, err := s.AppendWithOptions(bg, c, kindMoved, snapPayload{I: 150}, batpak.AppendOptions{Durability: event.OnWrite})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
