//go:build linux

package writer

import (
	"syscall"
	"unsafe"
)

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14): fault pages of a
// mapping in, writable, without changing their contents.
const madvPopulateWrite = 23

// populate prefaults [off, off+n) of the mapping at base. Errors (an old
// kernel, a range unmapped since) only mean the writer takes the faults
// itself, so they are ignored.
func populate(base uintptr, off, n int64) {
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, base+uintptr(off), uintptr(n), madvPopulateWrite)
}

func mappingBase(m []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(m))) }
