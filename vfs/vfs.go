package vfs

import (
	"errors"
	"io"
	"os"
)

// Errors of the seam and of its test file systems.
var (
	// ErrLocked is returned by Lock when another holder has the lock.
	ErrLocked = errors.New("vfs: locked by another holder")
	// ErrCrashed is wrapped by every operation on a MemFS after its armed
	// crash point fired (see MemFS.SetCrashAfter).
	ErrCrashed = errors.New("vfs: file system crashed")
	// ErrInjected is wrapped by every error a FaultyFS injects, so a test can
	// tell injected faults from real ones.
	ErrInjected = errors.New("vfs: injected fault")
)

// File is an open file. ReadAt may be called concurrently with WriteAt on
// another region and with other ReadAt calls.
type File interface {
	io.ReaderAt
	io.WriterAt
	io.Closer
	// Sync flushes the file's data (and the metadata needed to read it) to stable storage.
	Sync() error
	// Truncate changes the file's size.
	Truncate(size int64) error
	// Size returns the current size.
	Size() (int64, error)
	// Name returns the path the file was opened with.
	Name() string
}

// FS is the set of file-system operations batpak uses. Paths are plain
// OS paths joined with path/filepath.
type FS interface {
	// Create makes a new file for reading and writing; it fails if the file exists.
	Create(name string) (File, error)
	// OpenRW opens an existing file for reading and writing.
	OpenRW(name string) (File, error)
	// Open opens an existing file read-only.
	Open(name string) (File, error)
	// Remove deletes a file.
	Remove(name string) error
	// Rename atomically replaces newname with oldname.
	Rename(oldname, newname string) error
	// MkdirAll creates a directory and its parents.
	MkdirAll(dir string) error
	// List returns the names (not paths) of the entries of dir, sorted.
	List(dir string) ([]string, error)
	// SyncDir makes the directory's entries (creates, renames, removes) durable.
	SyncDir(dir string) error
	// Lock takes an exclusive lock named by the file name, creating the file
	// if needed. It returns ErrLocked at once if the lock is held, by this
	// process or another. Closing the returned Closer releases it.
	Lock(name string) (io.Closer, error)
}

// IsNotExist reports whether err says a file does not exist.
func IsNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }

// Mappable is implemented by files that can be memory-mapped for writing
// (the OS file system's). The writer maps its active segment so an append
// is a memory copy into the page cache rather than a write system call;
// file systems without it are written with WriteAt.
type Mappable interface {
	// MapWritable grows the file to size bytes, reserves its blocks (so a
	// write through the mapping can never meet a full disk) and maps it
	// shared and writable.
	MapWritable(size int64) ([]byte, error)
	// Unmap releases the mapping; data written through it stays in the
	// page cache and is made durable by Sync like any other write.
	Unmap() error
}

// ReadMappable is implemented by files that can be memory-mapped for
// reading (the OS file system's). Readers map segments so that reading an
// event is a copy out of the page cache rather than a system call.
type ReadMappable interface {
	// MapRead maps the file's current bytes shared and read-only. Release
	// the mapping with Unmap.
	MapRead() ([]byte, error)
}
