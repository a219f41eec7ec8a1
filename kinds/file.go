package kinds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/vfs"
)

// FileName is the file of a store directory that keeps its kind names
// (docs/FORMAT.md, "Kind names").
const FileName = "KINDS.json"

// File is the embedded store's Names: the table in FileName, replaced
// atomically (vfs.WriteFileAtomic: temporary file, fsync, rename,
// directory fsync) when a name is learned, so a crash leaves the old
// table or the new one. A File is safe for concurrent use.
type File struct {
	fs  vfs.FS
	dir string
	// readOnly, if not nil, is what Learn returns for a name not yet kept.
	readOnly error

	mu sync.Mutex // serialises Learn's writes, Reload and Close
	// closed, set by Close under mu, is what Learn returns afterwards for
	// a name not yet kept: nothing is written once the store is closed.
	closed error
	// cur is the table as last read or written, replaced whole (copy on
	// write) under mu and read without it: a typed append's fast path.
	cur atomic.Pointer[fileState]
}

type fileState struct {
	t   Table
	err error // damage found when the file was read: nothing is written over it
}

// OpenFile reads the names kept in dir (none if the file does not exist).
// Damage is not an error here: the store opens and works untyped, and
// Learn and Table return an error wrapping ErrNamesCorrupt naming the file
// until it is repaired or moved away. readOnly, if not nil, is the error
// Learn returns for a name the file does not hold yet (a store opened
// read-only).
func OpenFile(fs vfs.FS, dir string, readOnly error) *File {
	f := &File{fs: fs, dir: dir, readOnly: readOnly}
	f.cur.Store(f.read())
	return f
}

// ReadFile returns the names kept in dir, for tools that read a store
// without opening it; a store without the file names nothing.
func ReadFile(fs vfs.FS, dir string) (Table, error) {
	st := (&File{fs: fs, dir: dir}).read()
	return st.t, st.err
}

func (f *File) read() *fileState {
	path := filepath.Join(f.dir, FileName)
	b, err := readSmall(f.fs, path)
	if vfs.IsNotExist(err) {
		return &fileState{t: Table{}}
	}
	if err != nil {
		return &fileState{err: fmt.Errorf("kinds: reading %s: %w", path, err)}
	}
	t, err := UnmarshalTable(b)
	if err != nil {
		return &fileState{err: fmt.Errorf("%w (in %s: repair it or move it away; the store's events do not depend on it)", err, path)}
	}
	return &fileState{t: t}
}

// Reload reads the file again: a read-only store's Refresh picks up the
// names the writing process learned since.
func (f *File) Reload() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cur.Store(f.read())
}

// Close makes Learn return err for a name not kept yet: the store closes,
// and writes nothing more into its directory. It waits for a Learn in
// progress.
func (f *File) Close(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = err
}

// Table returns the names kept.
func (f *File) Table(context.Context) (Table, error) {
	st := f.cur.Load()
	return st.t, st.err
}

// Learn keeps name for kind (see Names). Only a name not kept yet costs a
// write: the file replaced atomically, durably before Learn returns.
func (f *File) Learn(_ context.Context, kind event.EventKind, name string) error {
	if st := f.cur.Load(); st.err == nil && st.t[kind] == name && name != "" {
		return nil
	}
	if err := checkLearn(kind, name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.cur.Load()
	if st.err != nil {
		return st.err
	}
	next, same, err := st.t.With(kind, name)
	if err != nil || same {
		return err
	}
	if f.readOnly != nil {
		return f.readOnly
	}
	if f.closed != nil {
		return f.closed
	}
	if err := vfs.WriteFileAtomic(f.fs, f.dir, FileName, MarshalTable(next)); err != nil {
		return fmt.Errorf("kinds: keeping the name of kind %#04x: %w", uint16(kind), err)
	}
	f.cur.Store(&fileState{t: next})
	return nil
}

// maxFile bounds the file: 4096 kinds of MaxName-byte names fit.
const maxFile = 1 << 20

// readSmall reads the whole file at path, refusing one above maxFile
// before allocating for it.
func readSmall(fs vfs.FS, path string) ([]byte, error) {
	fh, err := fs.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	size, err := fh.Size()
	if err != nil {
		return nil, err
	}
	if size > maxFile {
		return nil, fmt.Errorf("%w: %d bytes (at most %d)", ErrNamesCorrupt, size, maxFile)
	}
	b := make([]byte, size)
	if _, err := fh.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b, nil
}
