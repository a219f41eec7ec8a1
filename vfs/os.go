package vfs

import (
	"io"
	"io/fs"
	"os"
	"slices"
	"sync"
)

// OS is the real file system. New files get mode 0600 and new directories
// 0700 (PrivateModes), less the process's umask; WithModes chooses others.
var OS FS = osFS{modes: PrivateModes}

// osFS is the real file system creating with modes. The platform's part
// lives in build-tagged files: openFile (how a file is opened), lockFile
// (the directory lock), syncDir, and, where the platform has them, the
// mappings of Mappable and ReadMappable.
type osFS struct{ modes Modes }

type osFile struct{ *os.File }

// mappings holds each mapped file's mapping (osFile is a value type).
var mappings sync.Map

func (f osFile) Size() (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

func (o osFS) Create(name string) (File, error) {
	f, err := openFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, o.modes.File)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) OpenRW(name string) (File, error) {
	f, err := openFile(name, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) Open(name string) (File, error) {
	f, err := openFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) Remove(name string) error             { return os.Remove(name) }
func (osFS) Rename(oldname, newname string) error { return os.Rename(oldname, newname) }
func (o osFS) MkdirAll(dir string) error          { return os.MkdirAll(dir, o.modes.Dir) }

func (osFS) List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names, nil
}

func (osFS) SyncDir(dir string) error { return syncDir(dir) }

// Lock opens (creating if needed) the lock file and takes the platform's
// exclusive lock on it: flock(2) on Unix, LockFileEx on Windows. Both
// belong to the open file, so a second Lock of the same file fails even
// within one process.
func (o osFS) Lock(name string) (io.Closer, error) {
	f, err := openFile(name, os.O_RDWR|os.O_CREATE, o.modes.File)
	if err != nil {
		return nil, err
	}
	l, err := lockFile(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return l, nil
}

// WithModes implements ModeFS.
func (osFS) WithModes(m Modes) FS { return osFS{modes: m} }

// Mode implements ModeFS. It does not follow a symbolic link. On Windows
// the bits say only whether a file is read-only; they are not checked.
func (osFS) Mode(name string) (fs.FileMode, error) {
	fi, err := os.Lstat(name)
	if err != nil {
		return 0, err
	}
	return fi.Mode(), nil
}
