package vfs

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// SyncData flushes the file's data with fdatasync(2): its contents, and
// its size if that changed, but not timestamps and other metadata a read
// does not need.
func (f osFile) SyncData() error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			if serr = unix.Fdatasync(int(fd)); !errors.Is(serr, unix.EINTR) {
				return
			}
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: serr}
	}
	return nil
}
