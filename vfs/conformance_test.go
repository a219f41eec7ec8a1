package vfs

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// The conformance suite pins down the behaviour batpak relies on, and runs
// it against every FS, so that a test passing on MemFS or FaultyFS means
// what it would mean on the real disk.

type fsMaker struct {
	name string
	// make returns the FS and an existing, empty directory to work in.
	make func(t *testing.T) (FS, string)
}

func memDir(t *testing.T) (FS, string) {
	m := NewMem()
	must(t, m.MkdirAll("/db"))
	return m, "/db"
}

var fileSystems = []fsMaker{
	{"OS", func(t *testing.T) (FS, string) { return OS, t.TempDir() }},
	{"Mem", memDir},
	{"Mem/TempDirPath", func(t *testing.T) (FS, string) {
		// The same absolute spelling tests use on the real disk.
		m := NewMem()
		dir := filepath.Join(os.TempDir(), "batpak-vfs", t.Name())
		must(t, m.MkdirAll(dir))
		return m, dir
	}},
	{"FaultyOS", func(t *testing.T) (FS, string) { return NewFaulty(OS), t.TempDir() }},
	{"FaultyMem", func(t *testing.T) (FS, string) {
		inner, dir := memDir(t)
		return NewFaulty(inner), dir
	}},
}

var conformance = []struct {
	name string
	run  func(t *testing.T, fsys FS, dir string)
}{
	{"CreateFailsIfFileExists", testCreateFailsIfFileExists},
	{"CreateInMissingDirIsNotExist", testCreateInMissingDirIsNotExist},
	{"MissingFileIsNotExist", testMissingFileIsNotExist},
	{"ReadPastEndIsEOF", testReadPastEndIsEOF},
	{"WriteAtPastEndZeroFills", testWriteAtPastEndZeroFills},
	{"ReopenSeesWrites", testReopenSeesWrites},
	{"OpenReadOnlyRefusesWrites", testOpenReadOnlyRefusesWrites},
	{"TruncateShrinksAndGrows", testTruncateShrinksAndGrows},
	{"ClosedFileRefusesUse", testClosedFileRefusesUse},
	{"NameIsPathAsOpened", testNameIsPathAsOpened},
	{"RenameReplacesTarget", testRenameReplacesTarget},
	{"RemoveDeletesEntry", testRemoveDeletesEntry},
	{"ListIsSorted", testListIsSorted},
	{"MkdirAllMakesParentsAndIsIdempotent", testMkdirAllMakesParentsAndIsIdempotent},
	{"SyncDirAndSyncSucceed", testSyncDirAndSyncSucceed},
	{"LockTwiceIsErrLocked", testLockTwiceIsErrLocked},
	{"LockReleasedOnClose", testLockReleasedOnClose},
}

func TestConformance(t *testing.T) {
	for _, fsm := range fileSystems {
		t.Run(fsm.name, func(t *testing.T) {
			for _, tc := range conformance {
				t.Run(tc.name, func(t *testing.T) {
					fsys, dir := fsm.make(t)
					tc.run(t, fsys, dir)
				})
			}
		})
	}
}

func testCreateFailsIfFileExists(t *testing.T, fsys FS, dir string) {
	name := filepath.Join(dir, "a")
	writeFile(t, fsys, name, "first")
	_, err := fsys.Create(name)
	mustIs(t, err, os.ErrExist)
	mustContain(t, fsys, name, "first")
}

func testCreateInMissingDirIsNotExist(t *testing.T, fsys FS, dir string) {
	_, err := fsys.Create(filepath.Join(dir, "nodir", "a"))
	mustIs(t, err, os.ErrNotExist)
}

func testMissingFileIsNotExist(t *testing.T, fsys FS, dir string) {
	name := filepath.Join(dir, "missing")
	_, err := fsys.Open(name)
	mustIs(t, err, os.ErrNotExist)
	_, err = fsys.OpenRW(name)
	mustIs(t, err, os.ErrNotExist)
	mustIs(t, fsys.Remove(name), os.ErrNotExist)
	mustIs(t, fsys.Rename(name, filepath.Join(dir, "b")), os.ErrNotExist)
	_, err = fsys.List(name)
	mustIs(t, err, os.ErrNotExist)
	mustIs(t, fsys.SyncDir(name), os.ErrNotExist)
}

func testReadPastEndIsEOF(t *testing.T, fsys FS, dir string) {
	f := mustCreate(t, fsys, filepath.Join(dir, "a"))
	mustWrite(t, f, 0, "hello")
	cases := []struct {
		name    string
		off     int64
		len     int
		wantN   int
		wantErr error
	}{
		{"Exact", 0, 5, 5, nil},
		{"Inside", 1, 3, 3, nil},
		{"CrossesEnd", 2, 10, 3, io.EOF},
		{"AtEnd", 5, 1, 0, io.EOF},
		{"BeyondEnd", 100, 1, 0, io.EOF},
		{"EmptyBufferBeyondEnd", 100, 0, 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			buf := make([]byte, c.len)
			n, err := f.ReadAt(buf, c.off)
			if n != c.wantN || err != c.wantErr { // os.File returns io.EOF itself, unwrapped
				t.Fatalf("ReadAt(len %d, off %d) = %d, %v; want %d, %v", c.len, c.off, n, err, c.wantN, c.wantErr)
			}
			mustEqualBytes(t, "bytes read", buf[:n], []byte("hello"[min(int(c.off), 5):][:n]))
		})
	}
	if _, err := f.ReadAt(make([]byte, 1), -1); err == nil {
		t.Fatal("ReadAt at a negative offset succeeded")
	}
}

func testWriteAtPastEndZeroFills(t *testing.T, fsys FS, dir string) {
	f := mustCreate(t, fsys, filepath.Join(dir, "a"))
	mustWrite(t, f, 3, "xy")
	size, err := f.Size()
	must(t, err)
	if size != 5 {
		t.Fatalf("size %d, want 5", size)
	}
	buf := make([]byte, 5)
	_, err = f.ReadAt(buf, 0)
	must(t, err)
	mustEqualBytes(t, "contents", buf, []byte("\x00\x00\x00xy"))
	// An empty write past the end writes nothing and does not extend.
	n, err := f.WriteAt(nil, 100)
	must(t, err)
	if size, _ := f.Size(); n != 0 || size != 5 {
		t.Fatalf("empty WriteAt: n %d, size %d; want 0, 5", n, size)
	}
}

func testReopenSeesWrites(t *testing.T, fsys FS, dir string) {
	name := filepath.Join(dir, "a")
	writeFile(t, fsys, name, "abc")
	f, err := fsys.OpenRW(name)
	must(t, err)
	defer f.Close()
	mustWrite(t, f, 1, "XYZ")
	mustContain(t, fsys, name, "aXYZ")
}

func testOpenReadOnlyRefusesWrites(t *testing.T, fsys FS, dir string) {
	name := filepath.Join(dir, "a")
	writeFile(t, fsys, name, "abc")
	f, err := fsys.Open(name)
	must(t, err)
	defer f.Close()
	if _, err := f.WriteAt([]byte("x"), 0); err == nil {
		t.Fatal("WriteAt on a read-only file succeeded")
	}
	if err := f.Truncate(0); err == nil {
		t.Fatal("Truncate on a read-only file succeeded")
	}
	mustContain(t, fsys, name, "abc")
}

func testTruncateShrinksAndGrows(t *testing.T, fsys FS, dir string) {
	name := filepath.Join(dir, "a")
	f := mustCreate(t, fsys, name)
	mustWrite(t, f, 0, "abcdef")
	must(t, f.Truncate(2))
	mustContain(t, fsys, name, "ab")
	must(t, f.Truncate(4))
	mustContain(t, fsys, name, "ab\x00\x00") // the cut bytes do not come back
}

func testClosedFileRefusesUse(t *testing.T, fsys FS, dir string) {
	f, err := fsys.Create(filepath.Join(dir, "a"))
	must(t, err)
	must(t, f.Close())
	_, err = f.WriteAt([]byte("x"), 0)
	mustIs(t, err, os.ErrClosed)
	_, err = f.ReadAt(make([]byte, 1), 0)
	mustIs(t, err, os.ErrClosed)
	mustIs(t, f.Sync(), os.ErrClosed)
	mustIs(t, f.Close(), os.ErrClosed)
}

func testNameIsPathAsOpened(t *testing.T, fsys FS, dir string) {
	name := dir + "/./a" // not clean, on purpose
	f := mustCreate(t, fsys, name)
	if f.Name() != name {
		t.Fatalf("Name() = %q, want %q", f.Name(), name)
	}
	mustContain(t, fsys, filepath.Join(dir, "a"), "")
}

func testRenameReplacesTarget(t *testing.T, fsys FS, dir string) {
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	writeFile(t, fsys, a, "new")
	writeFile(t, fsys, b, "old contents")
	must(t, fsys.Rename(a, b))
	mustContain(t, fsys, b, "new")
	mustNotExist(t, fsys, a)
	mustList(t, fsys, dir, "b")
}

func testRemoveDeletesEntry(t *testing.T, fsys FS, dir string) {
	a := filepath.Join(dir, "a")
	writeFile(t, fsys, a, "x")
	must(t, fsys.Remove(a))
	mustNotExist(t, fsys, a)
	// An empty directory can be removed; a full one cannot.
	sub := filepath.Join(dir, "sub")
	must(t, fsys.MkdirAll(sub))
	writeFile(t, fsys, filepath.Join(sub, "f"), "x")
	if err := fsys.Remove(sub); err == nil {
		t.Fatal("Remove of a non-empty directory succeeded")
	}
	must(t, fsys.Remove(filepath.Join(sub, "f")))
	must(t, fsys.Remove(sub))
	mustList(t, fsys, dir)
}

func testListIsSorted(t *testing.T, fsys FS, dir string) {
	for _, n := range []string{"c", "a", "b10", "b2"} {
		writeFile(t, fsys, filepath.Join(dir, n), n)
	}
	must(t, fsys.MkdirAll(filepath.Join(dir, "B")))
	mustList(t, fsys, dir, "B", "a", "b10", "b2", "c")
	_, err := fsys.List(filepath.Join(dir, "a"))
	if err == nil {
		t.Fatal("List of a file succeeded")
	}
}

func testMkdirAllMakesParentsAndIsIdempotent(t *testing.T, fsys FS, dir string) {
	deep := filepath.Join(dir, "x", "y", "z")
	must(t, fsys.MkdirAll(deep))
	must(t, fsys.MkdirAll(deep))
	writeFile(t, fsys, filepath.Join(deep, "f"), "ok")
	mustList(t, fsys, filepath.Join(dir, "x"), "y")
	writeFile(t, fsys, filepath.Join(dir, "file"), "")
	if err := fsys.MkdirAll(filepath.Join(dir, "file", "sub")); err == nil {
		t.Fatal("MkdirAll through a file succeeded")
	}
}

func testSyncDirAndSyncSucceed(t *testing.T, fsys FS, dir string) {
	f := mustCreate(t, fsys, filepath.Join(dir, "a"))
	mustWrite(t, f, 0, "x")
	must(t, f.Sync())
	must(t, fsys.SyncDir(dir))
}

func testLockTwiceIsErrLocked(t *testing.T, fsys FS, dir string) {
	name := filepath.Join(dir, "LOCK")
	l, err := fsys.Lock(name)
	must(t, err)
	defer l.Close()
	_, err = fsys.Lock(name)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Lock: got %v, want ErrLocked", err)
	}
}

func testLockReleasedOnClose(t *testing.T, fsys FS, dir string) {
	name := filepath.Join(dir, "LOCK")
	l, err := fsys.Lock(name)
	must(t, err)
	must(t, l.Close())
	l2, err := fsys.Lock(name)
	must(t, err)
	must(t, l2.Close())
	mustList(t, fsys, dir, "LOCK") // Lock creates its file, and the file stays
}
