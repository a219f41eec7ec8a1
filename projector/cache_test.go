package projector_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batpak-go/batpak/projector"
	"github.com/batpak-go/batpak/vfs"
)

func TestMemoryCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := projector.NewMemoryCache(2)
	k := func(s string) projector.Key { return projector.Key{Name: "p", Version: 1, Subject: s} }
	c.Put(k("a"), projector.Entry{Watermark: 1})
	c.Put(k("b"), projector.Entry{Watermark: 2})
	c.Get(k("a")) // a is now the most recent
	c.Put(k("c"), projector.Entry{Watermark: 3})
	if _, ok, _ := c.Get(k("b")); ok {
		t.Fatal("b survived; it was the least recently used")
	}
	for _, s := range []string{"a", "c"} {
		if _, ok, _ := c.Get(k(s)); !ok {
			t.Fatalf("%s was evicted", s)
		}
	}
	if st := c.Stats(); st.Entries != 2 || st.Evictions != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestMemoryCacheKeepsTheNewerOfTwoRacingPuts(t *testing.T) {
	c := projector.NewMemoryCache(2)
	k := projector.Key{Name: "p", Subject: "a"}
	c.Put(k, projector.Entry{Watermark: 9, State: []byte("new")})
	c.Put(k, projector.Entry{Watermark: 4, State: []byte("old")})
	if e, _, _ := c.Get(k); e.Watermark != 9 {
		t.Fatalf("watermark %d after a late older put, want 9", e.Watermark)
	}
}

func testKey() projector.Key { return projector.Key{Name: "ledger", Version: 3, Subject: "account:1"} }

func testEntry() projector.Entry {
	return projector.Entry{State: []byte("state bytes"), Watermark: 42, CachedAt: time.UnixMicro(1_700_000_000_000_000)}
}

func sameEntry(a, b projector.Entry) bool {
	return slices.Equal(a.State, b.State) && a.Watermark == b.Watermark && a.CachedAt.Equal(b.CachedAt)
}

func TestFileCacheSurvivesReopen(t *testing.T) {
	for _, fs := range []struct {
		name string
		fs   vfs.FS
	}{{"os", vfs.OS}, {"mem", vfs.NewMem()}} {
		t.Run(fs.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cache")
			c, err := projector.OpenFileCache(dir, projector.WithFS(fs.fs))
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Put(testKey(), testEntry()); err != nil {
				t.Fatal(err)
			}
			c2, err := projector.OpenFileCache(dir, projector.WithFS(fs.fs))
			if err != nil {
				t.Fatal(err)
			}
			e, ok, err := c2.Get(testKey())
			if err != nil || !ok || !sameEntry(e, testEntry()) {
				t.Fatalf("after reopen: %+v, %t, %v", e, ok, err)
			}
			other := testKey()
			other.Version++
			if _, ok, err := c2.Get(other); ok || err != nil {
				t.Fatalf("another version hit (%t, %v)", ok, err)
			}
		})
	}
}

func TestFileCacheRejectsCorruptEntry(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func([]byte) []byte
	}{
		{"flipped bit", func(b []byte) []byte { b[len(b)/2] ^= 0x10; return b }},
		{"truncated", func(b []byte) []byte { return b[:len(b)-3] }},
		{"empty", func([]byte) []byte { return nil }},
		{"garbage", func(b []byte) []byte { return []byte(strings.Repeat("x", len(b))) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c, err := projector.OpenFileCache(dir, projector.WithMemoryFront(0))
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Put(testKey(), testEntry()); err != nil {
				t.Fatal(err)
			}
			path := c.Path(testKey())
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tc.damage(b), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, ok, err := c.Get(testKey()); ok || !errors.Is(err, projector.ErrCorruptEntry) {
				t.Fatalf("damaged entry: hit %t, err %v; want ErrCorruptEntry", ok, err)
			}
			if st := c.Stats(); st.Corrupt != 1 {
				t.Fatalf("stats %+v, want one corrupt entry", st)
			}
		})
	}
}

func TestFileCacheRemovesTemporariesOfInterruptedWrites(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "0123.bpc.tmp-dead-1")
	if err := os.WriteFile(stale, []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := projector.OpenFileCache(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale temporary still there: %v", err)
	}
}

func TestFileCacheWriteFailureLeavesOldEntry(t *testing.T) {
	ffs := vfs.NewFaulty(vfs.NewMem())
	c, err := projector.OpenFileCache("/cache", projector.WithFS(ffs), projector.WithMemoryFront(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Put(testKey(), testEntry()); err != nil {
		t.Fatal(err)
	}
	ffs.Inject(vfs.Rule{Op: vfs.OpWrite, Short: true})
	newer := testEntry()
	newer.Watermark, newer.State = 99, []byte("a newer state that is torn")
	if err := c.Put(testKey(), newer); err == nil {
		t.Fatal("a torn write reported success")
	}
	if e, ok, err := c.Get(testKey()); !ok || err != nil || !sameEntry(e, testEntry()) {
		t.Fatalf("after a failed write: %+v, %t, %v; want the old entry intact", e, ok, err)
	}
	if names, _ := ffs.List("/cache"); len(names) != 1 {
		t.Fatalf("files left: %v", names)
	}
}
