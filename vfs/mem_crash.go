package vfs

import (
	"maps"
	"math/rand/v2"
	"slices"
)

// DefaultCrashBlockSize is the writeback granularity CrashClone uses when
// CrashOptions.BlockSize is zero: the page size of common file systems.
const DefaultCrashBlockSize = 4096

// CrashOptions says how much of the unsynced state a crash keeps.
//
// The zero value is the strict crash: nothing unsynced survives. That is the
// case every store must handle, but real disks are kinder and stranger: the
// kernel writes dirty pages back whenever it likes and in any order, so after
// a power loss a file may hold some of its unsynced pages and not others.
// KeepUnsyncedFraction models that.
type CrashOptions struct {
	// KeepUnsyncedFraction is the probability, for each block written or
	// truncated since the file's last Sync, that the block's current contents
	// survive anyway; an unsynced shrink of the file survives with the same
	// probability. A kept block past the durable end extends the file, and
	// any skipped block before it reads as zeros: a torn tail. 0 keeps
	// nothing, 1 keeps everything. Directory entries never survive unsynced.
	KeepUnsyncedFraction float64
	// Seed drives the choice of blocks: the same Seed on the same history
	// keeps the same blocks.
	Seed uint64
	// BlockSize is the writeback granularity in bytes; 0 means
	// DefaultCrashBlockSize.
	BlockSize int
}

// CrashClone returns a new MemFS holding what would be on disk after a power
// loss at this instant: the durable directory entries only, reached from the
// root through durable entries, and each surviving file with its durable
// contents (plus, per opts, some unsynced blocks). A file whose entry was
// never made durable by SyncDir is gone even if its data was synced.
//
// The clone's current state is its durable state, its operation count is
// zero, it holds no locks and no crash point is armed. The receiver is not
// changed and stays usable, so a test can compare the two.
func (m *MemFS) CrashClone(opts CrashOptions) *MemFS {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.cloneLocked(opts)
}

func (m *MemFS) cloneLocked(opts CrashOptions) *MemFS {
	bs := int64(opts.BlockSize)
	if bs <= 0 {
		bs = DefaultCrashBlockSize
	}
	c := &crasher{
		keep: opts.KeepUnsyncedFraction,
		bs:   bs,
		// A fixed second word gives a distinct stream per Seed, Seed 0 included.
		rng:  rand.New(rand.NewPCG(opts.Seed, 0x62617470616b)),
		seen: map[*memNode]*memNode{},
	}
	out := NewMem()
	out.root = c.cloneDir(m.root)
	return out
}

// crasher builds one crash image. Nodes are visited in sorted name order so
// the random draws, and thus the image, depend only on Seed and history.
type crasher struct {
	keep float64
	bs   int64
	rng  *rand.Rand
	// seen maps original nodes to their clones, so a file durably linked
	// under two names (a rename synced in only one of two directories)
	// stays one file, and odd durable cycles cannot recurse forever.
	seen map[*memNode]*memNode
}

func (c *crasher) cloneDir(n *memNode) *memNode {
	if d, ok := c.seen[n]; ok {
		return d
	}
	d := newDirNode()
	d.perm = n.perm
	c.seen[n] = d
	for _, name := range slices.Sorted(maps.Keys(n.syncedChildren)) {
		child := n.syncedChildren[name]
		if child.isDir {
			d.children[name] = c.cloneDir(child)
		} else {
			d.children[name] = c.cloneFile(child)
		}
	}
	d.syncedChildren = maps.Clone(d.children)
	return d
}

func (c *crasher) cloneFile(n *memNode) *memNode {
	if f, ok := c.seen[n]; ok {
		return f
	}
	data := c.survivingContents(n)
	f := &memNode{perm: n.perm, data: data, synced: slices.Clone(data)}
	c.seen[n] = f
	return f
}

// survivingContents starts from the durable contents and, block by block,
// lets some unsynced writes through.
func (c *crasher) survivingContents(n *memNode) []byte {
	out := slices.Clone(n.synced)
	if out == nil {
		out = []byte{}
	}
	if c.keep <= 0 || len(n.dirty) == 0 {
		return out
	}
	size := int64(len(n.data))
	next := int64(0) // first block not yet drawn: a block touched by two spans is drawn once
	for _, s := range n.dirty {
		for b := max(s.lo/c.bs, next); b*c.bs < s.hi; b++ {
			next = b + 1
			if !c.kept() {
				continue
			}
			lo, hi := b*c.bs, min((b+1)*c.bs, size)
			if lo >= hi {
				continue // the block lies past the current end: only the shrink can drop it
			}
			if int64(len(out)) < hi {
				out = resize(out, hi)
			}
			copy(out[lo:hi], n.data[lo:hi])
		}
	}
	if size < int64(len(n.synced)) && c.kept() {
		out = out[:size]
	}
	return out
}

func (c *crasher) kept() bool { return c.rng.Float64() < c.keep }

// SetCrashAfter arms a crash point for crash-point enumeration. When the
// k-th mutating operation (counted as by Ops, from NewMem) succeeds, the
// MemFS, in the same critical section, takes CrashClone(opts) and freezes:
// every later operation on it or on its open files fails with an error
// satisfying errors.Is(err, ErrCrashed), except Close, which still succeeds
// so that the code under test can shut down cleanly. The k-th operation
// itself reports success, as a write that reached the page cache does.
//
// onCrash, if not nil, is called once with the clone, on the goroutine that
// performed the k-th operation, before that operation returns. It must not
// block on the code under test. Crashed returns the same clone afterwards.
//
// If Ops() >= k already, the crash happens at once, inside SetCrashAfter;
// k = 0 on a fresh MemFS crashes before anything happened. A later call
// replaces an armed crash point; once crashed, SetCrashAfter does nothing.
//
//	for k := 0; k <= total; k++ {
//		fsys := vfs.NewMem()
//		fsys.SetCrashAfter(k, vfs.CrashOptions{}, nil)
//		runWorkload(fsys) // stops at the first ErrCrashed
//		checkRecovery(fsys.Crashed())
//	}
func (m *MemFS) SetCrashAfter(k int, opts CrashOptions, onCrash func(clone *MemFS)) {
	m.mu.Lock()
	if m.crashed != nil {
		m.mu.Unlock()
		return
	}
	m.armed, m.crashAt, m.crashOpts, m.onCrash = true, k, opts, onCrash
	fire := m.maybeCrashLocked()
	m.mu.Unlock()
	if fire != nil {
		fire()
	}
}

// Crashed returns the clone taken when the armed crash point fired, or nil
// if no crash has happened.
func (m *MemFS) Crashed() *MemFS {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.crashed
}

// countLocked records one successful mutating operation and fires the armed
// crash point if this was its operation. It returns the callback to run
// once m.mu is released, or nil.
func (m *MemFS) countLocked() func() {
	m.ops++
	return m.maybeCrashLocked()
}

func (m *MemFS) maybeCrashLocked() func() {
	if !m.armed || m.ops < m.crashAt {
		return nil
	}
	m.armed = false
	m.crashed = m.cloneLocked(m.crashOpts)
	clone, onCrash := m.crashed, m.onCrash
	m.onCrash = nil
	if onCrash == nil {
		return nil
	}
	return func() { onCrash(clone) }
}
