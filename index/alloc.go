package index

import (
	"strings"
	"unsafe"
)

// rawSlice returns n elements of T, a type without pointers, in memory
// that is not zeroed when it can: the caller writes every element before
// reading it. It is for the pools a checkpoint load fills (see
// restoreEntries). Zeroing a large allocation makes the runtime touch
// every page of it first, 4 KiB at a time, before hugePages can ask for
// huge pages, and in a process that has used and returned memory before,
// the runtime zeroes; then the load's cost is mostly page faults taken
// twice. strings.Builder.Grow allocates without zeroing (the one way to
// ask for that outside the runtime); if it ever zeroes, this is only
// slower. Small sizes use make.
func rawSlice[T any](n int) []T {
	var zero T
	size := n * int(unsafe.Sizeof(zero))
	if size < 1<<20 {
		return make([]T, n)
	}
	var b strings.Builder
	b.Grow(size)
	b.WriteByte(0) // String needs a byte to point at the buffer
	p := unsafe.Pointer(unsafe.StringData(b.String()))
	if uintptr(p)%unsafe.Alignof(zero) != 0 {
		return make([]T, n) // a large allocation starts on a page: never seen
	}
	return unsafe.Slice((*T)(p), n)
}
