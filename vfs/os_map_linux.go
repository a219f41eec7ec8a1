//go:build linux

package vfs

import (
	"errors"

	"golang.org/x/sys/unix"
)

// MapWritable implements Mappable with fallocate and a shared mapping. It
// exists on Linux only: fallocate is what guarantees that a write through
// the mapping never meets a full disk (which a mapping reports as SIGBUS,
// not as an error). Elsewhere the writer uses WriteAt.
func (f osFile) MapWritable(size int64) ([]byte, error) {
	fd := int(f.Fd())
	if err := unix.Fallocate(fd, 0, 0, size); err != nil {
		return nil, err // e.g. EOPNOTSUPP: the caller writes with WriteAt instead
	}
	m, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	mappings.Store(f.File, m)
	return m, nil
}

// Unmap implements Mappable.
func (f osFile) Unmap() error {
	v, ok := mappings.LoadAndDelete(f.File)
	if !ok {
		return errors.New("vfs: file is not mapped")
	}
	return unix.Munmap(v.([]byte))
}
