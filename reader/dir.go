package reader

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/vfs"
)

// LockFile is the name of a store directory's lock.
const LockFile = "LOCK"

// LockDir readies dir for a store that writes, creating nothing in a
// directory that is not a store's: it refuses one holding files a store
// does not make (CheckDir) or a name not every platform can hold
// (vfs.CheckNewPath), creates dir and its parents with entries that
// survive a crash, and takes the store's exclusive lock, which it returns.
// A lock another open store holds is an error wrapping vfs.ErrLocked.
func LockDir(fs vfs.FS, dir string) (io.Closer, error) {
	if err := CheckDir(fs, dir); err != nil {
		return nil, err
	}
	if err := vfs.CheckNewPath(fs, dir); err != nil {
		return nil, fmt.Errorf("batpak: store directory %s: %w", dir, err)
	}
	if err := vfs.MkdirAllDurable(fs, dir); err != nil {
		return nil, fmt.Errorf("batpak: creating %s: %w", dir, err)
	}
	lock, err := fs.Lock(filepath.Join(dir, LockFile))
	if errors.Is(err, vfs.ErrLocked) {
		return nil, fmt.Errorf("batpak: store directory %s is locked by another open store: %w", dir, err)
	}
	if err != nil {
		return nil, fmt.Errorf("batpak: locking %s: %w", dir, err)
	}
	return lock, nil
}

// SalvageHint adds to an error saying a store's files in dir are damaged
// (event.ErrCorrupt, ErrMissingSegment) what gets the intact events back:
// batpak salvage. The error still matches what it wraps; any other error
// is returned as it is.
func SalvageHint(err error, dir string) error {
	if errors.Is(err, event.ErrCorrupt) || errors.Is(err, ErrMissingSegment) {
		return fmt.Errorf("%w (the store does not open over damage: \"batpak salvage %s NEWDIR\" copies every intact event into a new store and reports what was lost)", err, dir)
	}
	return err
}
