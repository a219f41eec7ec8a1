package vfs

import (
	"errors"
	"io"
	"os"
	"slices"
	"sort"
	"sync/atomic"
	"syscall"
)

// memFile is an open handle on a MemFS file. It shares the file system's
// lock, so it sees a crash freeze like every other operation.
type memFile struct {
	fs       *MemFS
	node     *memNode
	name     string // as passed to Create or Open, like os.File.Name
	writable bool
	closed   atomic.Bool
}

var errNegativeOffset = errors.New("negative offset")

func (f *memFile) Name() string { return f.name }

// Close releases the handle. It succeeds even after a crash, so the code
// under test can still release everything it holds.
func (f *memFile) Close() error {
	if !f.closed.CompareAndSwap(false, true) {
		return pathErr("close", f.name, os.ErrClosed)
	}
	return nil
}

func (f *memFile) checkOpen(op string) error {
	if f.closed.Load() {
		return pathErr(op, f.name, os.ErrClosed)
	}
	return nil
}

// ReadAt behaves as os.File.ReadAt: fewer than len(p) bytes come with io.EOF.
func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.checkOpen("read"); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, pathErr("readat", f.name, errNegativeOffset)
	}
	var n int
	err := f.fs.read("read", f.name, func() error {
		if len(p) == 0 {
			return nil
		}
		data := f.node.data
		if off >= int64(len(data)) {
			return io.EOF
		}
		n = copy(p, data[off:])
		if n < len(p) {
			return io.EOF
		}
		return nil
	})
	return n, err
}

// WriteAt writes p at off, zero-filling any gap past the end.
func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.checkOpen("write"); err != nil {
		return 0, err
	}
	if !f.writable {
		return 0, pathErr("write", f.name, syscall.EBADF)
	}
	if off < 0 {
		return 0, pathErr("writeat", f.name, errNegativeOffset)
	}
	err := f.fs.mutate("write", f.name, func() error {
		f.node.writeAt(p, off)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// Sync makes the current contents the durable contents.
func (f *memFile) Sync() error {
	if err := f.checkOpen("sync"); err != nil {
		return err
	}
	return f.fs.mutate("sync", f.name, func() error {
		f.node.sync()
		return nil
	})
}

func (f *memFile) Truncate(size int64) error {
	if err := f.checkOpen("truncate"); err != nil {
		return err
	}
	if !f.writable {
		return pathErr("truncate", f.name, syscall.EINVAL) // as ftruncate on a read-only descriptor
	}
	if size < 0 {
		return pathErr("truncate", f.name, syscall.EINVAL)
	}
	return f.fs.mutate("truncate", f.name, func() error {
		f.node.truncate(size)
		return nil
	})
}

func (f *memFile) Size() (int64, error) {
	if err := f.checkOpen("stat"); err != nil {
		return 0, err
	}
	var size int64
	err := f.fs.read("stat", f.name, func() error {
		size = int64(len(f.node.data))
		return nil
	})
	return size, err
}

// writeAt changes the current contents only; the durable contents wait for
// sync. The zero-filled gap past the old end is a change too.
func (n *memNode) writeAt(p []byte, off int64) {
	if len(p) == 0 {
		return // os.File.WriteAt writes nothing and does not extend the file
	}
	end := off + int64(len(p))
	old := int64(len(n.data))
	if end > old {
		n.data = resize(n.data, end)
	}
	copy(n.data[off:end], p)
	n.dirty = addSpan(n.dirty, min(off, old), end)
}

func (n *memNode) truncate(size int64) {
	old := int64(len(n.data))
	if size == old {
		return
	}
	n.data = resize(n.data, size)
	n.dirty = addSpan(n.dirty, min(old, size), max(old, size))
}

// sync copies only the changed ranges into the durable contents, so syncing
// an append-only log costs the size of the appends, not of the file. Every
// byte that differs between data and synced lies in a dirty span, including
// everything past the old durable end.
func (n *memNode) sync() {
	size := int64(len(n.data))
	n.synced = resize(n.synced, size)
	for _, s := range n.dirty {
		if lo, hi := s.lo, min(s.hi, size); lo < hi {
			copy(n.synced[lo:hi], n.data[lo:hi])
		}
	}
	n.dirty = n.dirty[:0]
}

// resize returns b with length size, zeroing any bytes it grows into (the
// spare capacity may hold bytes from before a shrink).
func resize(b []byte, size int64) []byte {
	old := int64(len(b))
	if size <= old {
		return b[:size]
	}
	b = slices.Grow(b, int(size-old))[:size]
	clear(b[old:])
	return b
}

// addSpan inserts [lo, hi) into the sorted disjoint spans, merging it with
// any span it overlaps or touches so appends keep the list at one element.
func addSpan(spans []span, lo, hi int64) []span {
	if lo >= hi {
		return spans
	}
	i := sort.Search(len(spans), func(i int) bool { return spans[i].hi >= lo })
	j := i
	for j < len(spans) && spans[j].lo <= hi {
		lo, hi = min(lo, spans[j].lo), max(hi, spans[j].hi)
		j++
	}
	return slices.Replace(spans, i, j, span{lo, hi})
}
