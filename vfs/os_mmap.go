//go:build linux

package vfs

import (
	"errors"
	"syscall"
)

// MapWritable implements Mappable with fallocate and a shared mapping.
func (f osFile) MapWritable(size int64) ([]byte, error) {
	fd := int(f.Fd())
	if err := syscall.Fallocate(fd, 0, 0, size); err != nil {
		return nil, err // e.g. EOPNOTSUPP: the caller writes with WriteAt instead
	}
	m, err := syscall.Mmap(fd, 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
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
	return syscall.Munmap(v.([]byte))
}

// MapRead implements ReadMappable.
func (f osFile) MapRead() ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() == 0 {
		return nil, errors.New("vfs: cannot map an empty file")
	}
	return syscall.Mmap(int(f.Fd()), 0, int(fi.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
}

// UnmapRead releases a mapping made by MapRead.
func UnmapRead(m []byte) error { return syscall.Munmap(m) }
