package vfs

import (
	"bytes"
	"fmt"
	"testing"
)

// newDurableDB returns a MemFS with a durable, empty /db.
func newDurableDB(t *testing.T) *MemFS {
	t.Helper()
	m := NewMem()
	must(t, m.MkdirAll("/db"))
	must(t, m.SyncDir("/"))
	return m
}

func TestCrashLosesUnsyncedData(t *testing.T) {
	m := newDurableDB(t)
	f := mustCreate(t, m, "/db/log")
	must(t, m.SyncDir("/db"))
	mustWrite(t, f, 0, "synced")
	must(t, f.Sync())
	mustWrite(t, f, 6, "+unsynced")
	mustWrite(t, f, 0, "S") // an unsynced overwrite inside the durable part

	c := m.CrashClone(CrashOptions{})
	mustContain(t, c, "/db/log", "synced")
	mustContain(t, m, "/db/log", "Synced+unsynced") // the original is untouched
}

func TestCrashLosesFileWhoseEntryWasNeverSynced(t *testing.T) {
	m := newDurableDB(t)
	f := mustCreate(t, m, "/db/seg")
	mustWrite(t, f, 0, "data")
	must(t, f.Sync()) // the data is durable, the name is not

	c := m.CrashClone(CrashOptions{})
	mustNotExist(t, c, "/db/seg")
	mustList(t, c, "/db")
}

func TestCrashKeepsSyncedDataAndEntries(t *testing.T) {
	m := newDurableDB(t)
	must(t, m.MkdirAll("/db/sub"))
	must(t, m.SyncDir("/db"))
	f := mustCreate(t, m, "/db/sub/seg")
	must(t, m.SyncDir("/db/sub"))
	mustWrite(t, f, 0, "durable")
	must(t, f.Sync())

	c := m.CrashClone(CrashOptions{})
	mustContain(t, c, "/db/sub/seg", "durable")
	mustList(t, c, "/", "db")
	mustList(t, c, "/db", "sub")
}

func TestCrashLosesDirectoryWhoseEntryWasNeverSynced(t *testing.T) {
	m := NewMem()
	must(t, m.MkdirAll("/db"))
	f := mustCreate(t, m, "/db/seg")
	must(t, m.SyncDir("/db")) // /db's entries are durable, but /db itself is not
	mustWrite(t, f, 0, "data")
	must(t, f.Sync())

	c := m.CrashClone(CrashOptions{})
	mustList(t, c, "/")
	mustNotExist(t, c, "/db/seg")
}

func TestCrashRenameNotDurableUntilSyncDir(t *testing.T) {
	m := newDurableDB(t)
	writeFile(t, m, "/db/CHECKPOINT", "old")
	f, err := m.OpenRW("/db/CHECKPOINT")
	must(t, err)
	must(t, f.Sync())
	must(t, f.Close())
	tmp := mustCreate(t, m, "/db/CHECKPOINT.tmp")
	mustWrite(t, tmp, 0, "new")
	must(t, tmp.Sync())
	must(t, m.SyncDir("/db"))
	must(t, m.Rename("/db/CHECKPOINT.tmp", "/db/CHECKPOINT"))

	before := m.CrashClone(CrashOptions{})
	mustContain(t, before, "/db/CHECKPOINT", "old")
	mustContain(t, before, "/db/CHECKPOINT.tmp", "new")

	must(t, m.SyncDir("/db"))
	after := m.CrashClone(CrashOptions{})
	mustContain(t, after, "/db/CHECKPOINT", "new")
	mustNotExist(t, after, "/db/CHECKPOINT.tmp")
}

func TestCrashRemoveNotDurableUntilSyncDir(t *testing.T) {
	m := newDurableDB(t)
	f := mustCreate(t, m, "/db/old.seg")
	mustWrite(t, f, 0, "x")
	must(t, f.Sync())
	must(t, m.SyncDir("/db"))
	must(t, m.Remove("/db/old.seg"))

	mustContain(t, m.CrashClone(CrashOptions{}), "/db/old.seg", "x")
	must(t, m.SyncDir("/db"))
	mustNotExist(t, m.CrashClone(CrashOptions{}), "/db/old.seg")
	// The handle outlives the name, as an open descriptor does.
	mustWrite(t, f, 1, "y")
}

func TestCrashUndoesUnsyncedTruncate(t *testing.T) {
	m := newDurableDB(t)
	f := mustCreate(t, m, "/db/seg")
	must(t, m.SyncDir("/db"))
	mustWrite(t, f, 0, "0123456789")
	must(t, f.Sync())
	must(t, f.Truncate(4))
	mustContain(t, m.CrashClone(CrashOptions{}), "/db/seg", "0123456789")
	must(t, f.Sync())
	mustContain(t, m.CrashClone(CrashOptions{}), "/db/seg", "0123")
	// Growing after a synced shrink must not resurrect the cut bytes.
	must(t, f.Truncate(6))
	must(t, f.Sync())
	mustContain(t, m.CrashClone(CrashOptions{}), "/db/seg", "0123\x00\x00")
}

func TestCrashCloneIsIndependentOfOriginal(t *testing.T) {
	m := newDurableDB(t)
	f := mustCreate(t, m, "/db/seg")
	must(t, m.SyncDir("/db"))
	mustWrite(t, f, 0, "abc")
	must(t, f.Sync())
	lock, err := m.Lock("/db/LOCK")
	must(t, err)
	defer lock.Close()

	c := m.CrashClone(CrashOptions{})
	g, err := c.OpenRW("/db/seg")
	must(t, err)
	mustWrite(t, g, 0, "XYZ")
	mustWrite(t, f, 3, "def")

	mustContain(t, m, "/db/seg", "abcdef")
	mustContain(t, c, "/db/seg", "XYZ")
	l2, err := c.Lock("/db/LOCK") // locks are not carried over
	must(t, err)
	must(t, l2.Close())
	if c.Ops() != 2 { // the write and the Lock that created its file
		t.Fatalf("clone Ops() = %d, want 2", c.Ops())
	}
}

func TestCrashKeepsSharedFileOnceWhenLinkedTwice(t *testing.T) {
	// A rename across directories synced in the new directory only leaves
	// the file durably under both names; the clone must keep one file.
	m := newDurableDB(t)
	must(t, m.MkdirAll("/db/a"))
	must(t, m.MkdirAll("/db/b"))
	must(t, m.SyncDir("/db"))
	writeFile(t, m, "/db/a/f", "x")
	must(t, m.SyncDir("/db/a"))
	must(t, m.Rename("/db/a/f", "/db/b/f"))
	must(t, m.SyncDir("/db/b"))

	c := m.CrashClone(CrashOptions{})
	f, err := c.OpenRW("/db/a/f")
	must(t, err)
	mustWrite(t, f, 0, "y")
	mustContain(t, c, "/db/b/f", "y")
}

// partialFixture: 8 durable blocks of 'a' (block size 4), then unsynced:
// blocks 1, 3 and 5 overwritten with 'b' and 4 blocks of 'c' appended.
func partialFixture(t *testing.T) (*MemFS, []byte, []byte) {
	t.Helper()
	m := newDurableDB(t)
	f := mustCreate(t, m, "/db/seg")
	must(t, m.SyncDir("/db"))
	synced := bytes.Repeat([]byte("a"), 32)
	_, err := f.WriteAt(synced, 0)
	must(t, err)
	must(t, f.Sync())
	current := bytes.Clone(synced)
	for _, b := range []int{1, 3, 5} {
		mustWrite(t, f, int64(4*b), "bbbb")
		copy(current[4*b:], "bbbb")
	}
	mustWrite(t, f, 32, "cccccccccccccccc")
	current = append(current, "cccccccccccccccc"...)
	return m, synced, current
}

func crashContents(t *testing.T, m *MemFS, opts CrashOptions) []byte {
	t.Helper()
	return []byte(readFile(t, m.CrashClone(opts), "/db/seg"))
}

func TestCrashPartialKeepIsDeterministicForSeed(t *testing.T) {
	m, synced, current := partialFixture(t)
	opts := CrashOptions{KeepUnsyncedFraction: 0.5, Seed: 42, BlockSize: 4}

	first := crashContents(t, m, opts)
	mustEqualBytes(t, "same seed, second clone", crashContents(t, m, opts), first)

	// Every block is the durable one, the current one, or (past the durable
	// end, before a kept block) a hole of zeros.
	if len(first)%4 != 0 || len(first) < len(synced) || len(first) > len(current) {
		t.Fatalf("crash image is %d bytes: want a block boundary in [%d, %d]", len(first), len(synced), len(current))
	}
	kept := 0
	for off := 0; off < len(first); off += 4 {
		got, cur := first[off:off+4], current[off:off+4]
		var dur []byte
		if off < len(synced) {
			dur = synced[off : off+4]
		}
		switch {
		case bytes.Equal(got, cur) && !bytes.Equal(cur, dur):
			kept++
		case bytes.Equal(got, dur):
		case dur == nil && bytes.Equal(got, make([]byte, 4)):
		default:
			t.Fatalf("block at %d is %q: neither durable %q, current %q nor a hole", off, got, dur, cur)
		}
	}
	if kept == 0 || kept == 7 {
		t.Fatalf("seed 42 kept %d of 7 unsynced blocks; want a partial keep to test", kept)
	}

	differs := false
	for seed := uint64(0); seed < 20 && !differs; seed++ {
		o := opts
		o.Seed = seed
		differs = seed != 42 && !bytes.Equal(crashContents(t, m, o), first)
	}
	if !differs {
		t.Fatal("20 other seeds all kept the same blocks as seed 42")
	}
}

// shrinkFixture: 32 durable bytes, then unsynced: a shrink to 10 bytes and a
// write inside what is left.
func shrinkFixture(t *testing.T) (*MemFS, []byte, []byte) {
	t.Helper()
	m := newDurableDB(t)
	f := mustCreate(t, m, "/db/seg")
	must(t, m.SyncDir("/db"))
	synced := bytes.Repeat([]byte("a"), 32)
	_, err := f.WriteAt(synced, 0)
	must(t, err)
	must(t, f.Sync())
	must(t, f.Truncate(10))
	mustWrite(t, f, 4, "bbbb")
	return m, synced, []byte("aaaabbbbaa")
}

func TestCrashKeepFractionBounds(t *testing.T) {
	for _, fixture := range []struct {
		name string
		make func(t *testing.T) (*MemFS, []byte, []byte)
	}{
		{"OverwriteAndAppend", partialFixture},
		{"ShrinkAndOverwrite", shrinkFixture},
	} {
		t.Run(fixture.name, func(t *testing.T) {
			m, synced, current := fixture.make(t)
			for _, c := range []struct {
				frac float64
				want []byte
			}{
				{0, synced},
				{1, current},
			} {
				for _, bs := range []int{0, 1, 3, 4, 4096} {
					got := crashContents(t, m, CrashOptions{KeepUnsyncedFraction: c.frac, Seed: 7, BlockSize: bs})
					mustEqualBytes(t, fmt.Sprintf("keep %v, block size %d", c.frac, bs), got, c.want)
				}
			}
		})
	}
}

func TestCrashPartialKeepMayTearTheTail(t *testing.T) {
	// An append of 4 blocks, unsynced: with one block kept and an earlier one
	// not, the file holds zeros before the kept block.
	m := newDurableDB(t)
	f := mustCreate(t, m, "/db/seg")
	must(t, m.SyncDir("/db"))
	mustWrite(t, f, 0, "AAAABBBBCCCCDDDD")
	sawHole := false
	for seed := uint64(0); seed < 50 && !sawHole; seed++ {
		got := crashContents(t, m, CrashOptions{KeepUnsyncedFraction: 0.5, Seed: seed, BlockSize: 4})
		sawHole = len(got) > 4 && bytes.Contains(got, []byte("\x00\x00\x00\x00"))
	}
	if !sawHole {
		t.Fatal("no seed in 50 produced a torn tail with a hole")
	}
}
