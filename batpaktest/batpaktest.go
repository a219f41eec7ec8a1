package batpaktest

import (
	"log/slog"
	"sync"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/vfs"
)

// Dir is the directory of every store this package opens, on that store's
// own in-memory file system.
const Dir = "/store"

// opened is what this package remembers of a store it opened.
type opened struct {
	fs   *vfs.MemFS
	opts []batpak.Option
	// gone is set once the store was crashed or reopened: it is closed,
	// and a new store stands for it.
	gone bool // guarded by mu
}

var (
	mu     sync.Mutex
	stores = make(map[*batpak.Store]*opened) // guarded by mu
)

// Open opens a store on a fresh in-memory file system and closes it when
// the test ends, failing the test if Close returns an error. opts are
// those of batpak.Open; the file system is this package's (a WithFS among
// opts is overridden), and the store logs through t unless opts give a
// logger. Crash, CrashWith and Reopen reopen it with the same options.
func Open(t testing.TB, opts ...batpak.Option) *batpak.Store {
	t.Helper()
	return open(t, vfs.NewMem(), opts)
}

// Crash simulates a power loss: the store's file system keeps only what
// had been made durable, the store is closed without writing anything
// more, and a new store is opened on what the disk holds, recovering as a
// restarted process would. Durable acknowledged events are all there;
// on-write events not yet synced, and anything still in flight, are not.
// s must have been opened by this package; do not use it afterwards.
func Crash(t testing.TB, s *batpak.Store) *batpak.Store {
	t.Helper()
	return CrashWith(t, s, vfs.CrashOptions{})
}

// CrashWith is Crash with a choice of what the crash keeps of the data not
// yet synced (vfs.CrashOptions: a fraction of the unsynced blocks, as a
// disk's writeback might have written them; a torn tail the store must
// recover from).
func CrashWith(t testing.TB, s *batpak.Store, crash vfs.CrashOptions) *batpak.Store {
	t.Helper()
	o := take(t, s, "Crash")
	// Freeze the file system at this instant: from here every write and
	// sync of the old store fails, so closing it cannot change the image.
	o.fs.SetCrashAfter(0, crash, nil)
	image := o.fs.Crashed()
	if image == nil {
		t.Fatalf("batpaktest: Crash: the file system of the store had already crashed")
	}
	_ = s.Close() // it fails: its file system is gone, as after a power loss
	return open(t, image, o.opts)
}

// Reopen closes s cleanly, failing the test if Close fails, and opens the
// store again with the same options, as a restarted process would. s must
// have been opened by this package; do not use it afterwards.
func Reopen(t testing.TB, s *batpak.Store) *batpak.Store {
	t.Helper()
	o := take(t, s, "Reopen")
	if err := s.Close(); err != nil {
		t.Fatalf("batpaktest: Reopen: closing the store: %v", err)
	}
	return open(t, o.fs, o.opts)
}

// FS returns the in-memory file system of a store opened by this package:
// to look at its files, to take a snapshot of it, or to open a store of
// one's own over it after Close (at Dir).
func FS(t testing.TB, s *batpak.Store) *vfs.MemFS {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	o, ok := stores[s]
	if !ok {
		t.Fatalf("batpaktest: FS: the store was not opened by batpaktest")
	}
	return o.fs
}

func open(t testing.TB, fs *vfs.MemFS, opts []batpak.Option) *batpak.Store {
	t.Helper()
	all := make([]batpak.Option, 0, len(opts)+2)
	all = append(all, batpak.WithLogger(slog.New(slog.NewTextHandler(t.Output(), nil))))
	all = append(all, opts...)
	all = append(all, batpak.WithFS(fs))
	s, err := batpak.Open(Dir, all...)
	if err != nil {
		t.Fatalf("batpaktest: opening the store: %v", err)
	}
	o := &opened{fs: fs, opts: opts}
	mu.Lock()
	stores[s] = o
	mu.Unlock()
	t.Cleanup(func() {
		mu.Lock()
		gone := o.gone
		delete(stores, s)
		mu.Unlock()
		if err := s.Close(); err != nil && !gone {
			t.Errorf("batpaktest: closing the store: %v", err)
		}
	})
	return s
}

// take marks s as replaced, failing the test if this package did not open
// it or it was already crashed or reopened.
func take(t testing.TB, s *batpak.Store, op string) *opened {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	o, ok := stores[s]
	switch {
	case !ok:
		t.Fatalf("batpaktest: %s: the store was not opened by batpaktest", op)
	case o.gone:
		t.Fatalf("batpaktest: %s: the store was already crashed or reopened; use the store that returned", op)
	}
	o.gone = true
	return o
}
