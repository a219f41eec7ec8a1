//go:build linux || darwin

package vfs

import (
	"errors"

	"golang.org/x/sys/unix"
)

// MapRead implements ReadMappable.
func (f osFile) MapRead() ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() == 0 {
		return nil, errors.New("vfs: cannot map an empty file")
	}
	return unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
}

// UnmapRead releases a mapping made by MapRead.
func UnmapRead(m []byte) error { return unix.Munmap(m) }
