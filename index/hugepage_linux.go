package index

import (
	"syscall"
	"unsafe"
)

// hugePageSize is the size of a transparent huge page on the machines
// batpak runs on (x86-64 and arm64 with 4 KiB base pages).
const hugePageSize = 2 << 20

// hugePages asks the kernel to back the whole huge pages inside the
// storage of s with transparent huge pages when they are first touched.
// It is called on a large allocation before it is filled: restoring a big
// index from its checkpoint writes tens of megabytes of fresh memory, and
// on a virtual machine faulting that in 4 KiB at a time costs more than
// the rest of the load (measured: 40 MiB in 200–370 ms, against 6–60 ms
// with huge pages). A hint only: where the kernel does not allow it
// (transparent huge pages disabled, or memory already touched) nothing
// changes.
func hugePages[T any](s []T) {
	var zero T
	size := uintptr(cap(s)) * unsafe.Sizeof(zero)
	if size < 2*hugePageSize {
		return
	}
	p := unsafe.Pointer(unsafe.SliceData(s))
	start := (uintptr(p) + hugePageSize - 1) &^ (hugePageSize - 1)
	end := (uintptr(p) + size) &^ (hugePageSize - 1)
	if end <= start {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Add(p, start-uintptr(p))), end-start)
	_ = syscall.Madvise(b, syscall.MADV_HUGEPAGE) // a hint: errors change nothing
}
