package vfs

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"testing"
)

// The tests use the standard library only: small helpers that stop the test
// at the first broken step and say which step it was.

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustIs(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want one that is %v", err, target)
	}
}

func mustCreate(t *testing.T, fsys FS, name string) File {
	t.Helper()
	f, err := fsys.Create(name)
	must(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

func mustWrite(t *testing.T, f File, off int64, s string) {
	t.Helper()
	n, err := f.WriteAt([]byte(s), off)
	must(t, err)
	if n != len(s) {
		t.Fatalf("wrote %d bytes, want %d", n, len(s))
	}
}

// writeFile creates name holding s, for tests that need a file to exist.
func writeFile(t *testing.T, fsys FS, name, s string) {
	t.Helper()
	f, err := fsys.Create(name)
	must(t, err)
	mustWrite(t, f, 0, s)
	must(t, f.Close())
}

// readFile returns the whole contents of name.
func readFile(t *testing.T, fsys FS, name string) string {
	t.Helper()
	f, err := fsys.Open(name)
	must(t, err)
	defer f.Close()
	size, err := f.Size()
	must(t, err)
	buf := make([]byte, size)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !(err == io.EOF && n == len(buf)) {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(buf[:n])
}

func mustContain(t *testing.T, fsys FS, name, want string) {
	t.Helper()
	if got := readFile(t, fsys, name); got != want {
		t.Fatalf("%s holds %q, want %q", name, got, want)
	}
}

func mustNotExist(t *testing.T, fsys FS, name string) {
	t.Helper()
	_, err := fsys.Open(name)
	if !IsNotExist(err) {
		t.Fatalf("open %s: got %v, want a not-exist error", name, err)
	}
	names, err := fsys.List(filepath.Dir(name))
	if err == nil {
		for _, n := range names {
			if n == filepath.Base(name) {
				t.Fatalf("List(%s) still names %s", filepath.Dir(name), n)
			}
		}
	}
}

func mustList(t *testing.T, fsys FS, dir string, want ...string) {
	t.Helper()
	got, err := fsys.List(dir)
	must(t, err)
	if len(got) != len(want) {
		t.Fatalf("List(%s) = %q, want %q", dir, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("List(%s) = %q, want %q", dir, got, want)
		}
	}
}

func mustEqualBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: got %q, want %q", what, got, want)
	}
}
