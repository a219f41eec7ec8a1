//go:build windows

package vfs

import (
	"errors"
	"io"
	"math"
	"os"

	"golang.org/x/sys/windows"
)

// lockFile takes LockFileEx's exclusive lock on the whole of f without
// waiting. Windows locks belong to the handle, so a second Lock of the same
// file fails even within one process, as flock does elsewhere.
func lockFile(f *os.File) (io.Closer, error) {
	h := windows.Handle(f.Fd())
	var ol windows.Overlapped
	err := windows.LockFileEx(h, windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, math.MaxUint32, math.MaxUint32, &ol)
	if err != nil {
		if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
			return nil, ErrLocked
		}
		return nil, err
	}
	return &windowsLock{f: f}, nil
}

// windowsLock unlocks before closing: Windows releases the lock of a closed
// handle only when the system gets to it, so a quick reopen could fail.
type windowsLock struct{ f *os.File }

func (l *windowsLock) Close() error {
	var ol windows.Overlapped
	uerr := windows.UnlockFileEx(windows.Handle(l.f.Fd()), 0, math.MaxUint32, math.MaxUint32, &ol)
	if err := l.f.Close(); err != nil {
		return err
	}
	return uerr
}
