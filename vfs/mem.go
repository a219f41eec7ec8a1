package vfs

import (
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// MemFS is an in-memory FS that knows what a power loss would leave behind.
//
// Every file keeps two versions of its contents: what it holds now and what
// the last Sync made durable. Every directory keeps two sets of entries: the
// current ones and those the last SyncDir made durable. Creates, renames,
// removes and MkdirAll change only the current entries, so a crash (see
// CrashClone and SetCrashAfter) undoes them unless the parent directory was
// synced afterwards, exactly the rule a store must follow on a real disk.
//
// Files are inodes: a directory entry names one, open handles keep working
// after a rename or remove, and syncing a file makes its data durable
// whatever name it lives under.
//
// Paths are cleaned with filepath.Clean and resolved from one root, so
// "db/x", "/db/x" and "/db/../db/x" all name the same file. The root always
// exists and is always durable.
//
// A MemFS is safe for concurrent use: one lock guards the whole tree, which
// is plenty for tests and keeps the crash snapshot trivially consistent.
type MemFS struct {
	mu sync.RWMutex // guards every field below and every memNode reachable from root

	root  *memNode
	locks map[string]*memLock // held locks by cleaned path
	ops   int                 // successful mutating operations so far

	// The armed crash point (SetCrashAfter).
	armed     bool
	crashAt   int
	crashOpts CrashOptions
	onCrash   func(*MemFS)
	// crashed is the clone taken when the armed crash fired. Once set, the
	// file system is frozen: every operation but Close fails with ErrCrashed.
	crashed *MemFS
}

// memNode is a file or a directory.
type memNode struct {
	isDir bool
	perm  fs.FileMode // permission bits, as given at creation

	// Files.
	data   []byte // current contents
	synced []byte // contents as of the last Sync; never shares memory with data
	dirty  []span // ranges of data changed since the last Sync: sorted, disjoint, not adjacent

	// Directories.
	children       map[string]*memNode // current entries
	syncedChildren map[string]*memNode // entries as of the last SyncDir
}

// span is the half-open byte range [lo, hi).
type span struct{ lo, hi int64 }

var _ FS = (*MemFS)(nil)

// NewMem returns an empty in-memory file system holding only its root.
func NewMem() *MemFS {
	return &MemFS{root: newDirNode(), locks: map[string]*memLock{}}
}

func newDirNode() *memNode {
	return &memNode{
		isDir:          true,
		perm:           PrivateModes.Dir,
		children:       map[string]*memNode{},
		syncedChildren: map[string]*memNode{},
	}
}

// Ops returns the number of mutating operations that have succeeded so far:
// Create, WriteAt, Sync, Truncate, Remove, Rename, MkdirAll, SyncDir, and a
// Lock that had to create its file. Reads, List, Size, Open and Close do not
// count. A crash-point enumeration runs its workload once, reads Ops, then
// replays the workload crashing after each k in 0..Ops (see SetCrashAfter).
func (m *MemFS) Ops() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.ops
}

// mutate runs fn as one mutating operation: it refuses once crashed, counts
// the operation if fn succeeds, and fires an armed crash point when this
// operation is the one it waits for. The crash callback runs after the lock
// is released so that it may use either file system.
func (m *MemFS) mutate(op, name string, fn func() error) error {
	m.mu.Lock()
	if m.crashed != nil {
		m.mu.Unlock()
		return pathErr(op, name, ErrCrashed)
	}
	err := fn()
	var fire func()
	if err == nil {
		fire = m.countLocked()
	}
	m.mu.Unlock()
	if fire != nil {
		fire()
	}
	return err
}

// read runs fn as one non-mutating operation under the read lock.
func (m *MemFS) read(op, name string, fn func() error) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.crashed != nil {
		return pathErr(op, name, ErrCrashed)
	}
	return fn()
}

func pathErr(op, name string, err error) error {
	return &os.PathError{Op: op, Path: name, Err: err}
}

// splitPath turns name into its components below the root. Prefixing "/"
// before cleaning makes relative and absolute spellings agree and lets ".."
// stop at the root, as it does on a real file system.
func splitPath(name string) []string {
	p := path.Clean("/" + filepath.ToSlash(name))
	if p == "/" {
		return nil
	}
	return strings.Split(p[1:], "/")
}

// walk follows parts from the root; every component must be a directory.
func (m *MemFS) walk(op, name string, parts []string) (*memNode, error) {
	dir := m.root
	for _, p := range parts {
		child, ok := dir.children[p]
		if !ok {
			return nil, pathErr(op, name, fs.ErrNotExist)
		}
		if !child.isDir {
			return nil, pathErr(op, name, syscall.ENOTDIR)
		}
		dir = child
	}
	return dir, nil
}

// parent resolves the directory that holds name's last component.
func (m *MemFS) parent(op, name string) (*memNode, string, error) {
	parts := splitPath(name)
	if len(parts) == 0 {
		return nil, "", pathErr(op, name, syscall.EINVAL) // the root has no parent entry
	}
	dir, err := m.walk(op, name, parts[:len(parts)-1])
	if err != nil {
		return nil, "", err
	}
	return dir, parts[len(parts)-1], nil
}

// lookup resolves name to its node, which may be the root.
func (m *MemFS) lookup(op, name string) (*memNode, error) {
	parts := splitPath(name)
	if len(parts) == 0 {
		return m.root, nil
	}
	dir, base, err := m.parent(op, name)
	if err != nil {
		return nil, err
	}
	n, ok := dir.children[base]
	if !ok {
		return nil, pathErr(op, name, fs.ErrNotExist)
	}
	return n, nil
}

// Create makes a new empty file with mode 0600 (see WithModes); the error
// satisfies errors.Is(err, os.ErrExist) if name exists. The new entry is
// durable only after SyncDir of its directory.
func (m *MemFS) Create(name string) (File, error) { return m.create(name, PrivateModes.File) }

func (m *MemFS) create(name string, perm fs.FileMode) (File, error) {
	var f File
	err := m.mutate("open", name, func() error {
		dir, base, err := m.parent("open", name)
		if err != nil {
			return err
		}
		if _, ok := dir.children[base]; ok {
			return pathErr("open", name, fs.ErrExist)
		}
		n := &memNode{perm: perm.Perm()}
		dir.children[base] = n
		f = &memFile{fs: m, node: n, name: name, writable: true}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// OpenRW opens an existing file for reading and writing.
func (m *MemFS) OpenRW(name string) (File, error) { return m.open(name, true) }

// Open opens an existing file read-only: WriteAt and Truncate fail.
func (m *MemFS) Open(name string) (File, error) { return m.open(name, false) }

func (m *MemFS) open(name string, writable bool) (File, error) {
	var f File
	err := m.read("open", name, func() error {
		n, err := m.lookup("open", name)
		if err != nil {
			return err
		}
		if n.isDir {
			// os.Open allows reading a directory's entries through a File;
			// batpak never does, so refusing is simpler and catches mistakes.
			return pathErr("open", name, syscall.EISDIR)
		}
		f = &memFile{fs: m, node: n, name: name, writable: writable}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Remove deletes a file or an empty directory. The removal is durable only
// after SyncDir of the parent; open handles keep working.
func (m *MemFS) Remove(name string) error {
	return m.mutate("remove", name, func() error {
		dir, base, err := m.parent("remove", name)
		if err != nil {
			return err
		}
		n, ok := dir.children[base]
		if !ok {
			return pathErr("remove", name, fs.ErrNotExist)
		}
		if n.isDir && len(n.children) > 0 {
			return pathErr("remove", name, syscall.ENOTEMPTY)
		}
		delete(dir.children, base)
		return nil
	})
}

// Rename atomically makes newname refer to what oldname referred to,
// replacing a file at newname. Durable only after SyncDir of both parents.
func (m *MemFS) Rename(oldname, newname string) error {
	linkErr := func(err error) error {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	return m.mutate("rename", oldname, func() error {
		odir, obase, err := m.parent("rename", oldname)
		if err != nil {
			return linkErr(unwrapPathErr(err))
		}
		n, ok := odir.children[obase]
		if !ok {
			return linkErr(fs.ErrNotExist)
		}
		nparts := splitPath(newname)
		if len(nparts) == 0 {
			return linkErr(syscall.EBUSY)
		}
		ndir, err := m.walk("rename", newname, nparts[:len(nparts)-1])
		if err != nil {
			return linkErr(unwrapPathErr(err))
		}
		nbase := nparts[len(nparts)-1]
		if odir == ndir && obase == nbase {
			return nil
		}
		if n.isDir && m.isOnPath(n, nparts[:len(nparts)-1]) {
			return linkErr(syscall.EINVAL) // a directory cannot move inside itself
		}
		if old, ok := ndir.children[nbase]; ok {
			switch {
			case old.isDir && !n.isDir:
				return linkErr(syscall.EISDIR)
			case !old.isDir && n.isDir:
				return linkErr(syscall.ENOTDIR)
			case old.isDir && len(old.children) > 0:
				return linkErr(syscall.ENOTEMPTY)
			}
		}
		delete(odir.children, obase)
		ndir.children[nbase] = n
		return nil
	})
}

// isOnPath reports whether n is one of the directories walked by parts.
func (m *MemFS) isOnPath(n *memNode, parts []string) bool {
	dir := m.root
	for _, p := range parts {
		if dir == n {
			return true
		}
		dir = dir.children[p]
	}
	return dir == n
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// MkdirAll creates dir and any missing parents, with mode 0700 (see
// WithModes). Each new directory's entry in its parent is durable only
// after SyncDir of that parent.
func (m *MemFS) MkdirAll(dir string) error { return m.mkdirAll(dir, PrivateModes.Dir) }

func (m *MemFS) mkdirAll(dir string, perm fs.FileMode) error {
	return m.mutate("mkdir", dir, func() error {
		parts := splitPath(dir)
		// Check the existing prefix first so that a failure creates nothing:
		// only an existing component can be a file.
		d := m.root
		i := 0
		for ; i < len(parts); i++ {
			child, ok := d.children[parts[i]]
			if !ok {
				break
			}
			if !child.isDir {
				return pathErr("mkdir", dir, syscall.ENOTDIR)
			}
			d = child
		}
		for ; i < len(parts); i++ {
			child := newDirNode()
			child.perm = perm.Perm()
			d.children[parts[i]] = child
			d = child
		}
		return nil
	})
}

// List returns the names of dir's current entries, sorted.
func (m *MemFS) List(dir string) ([]string, error) {
	var names []string
	err := m.read("open", dir, func() error {
		n, err := m.lookup("open", dir)
		if err != nil {
			return err
		}
		if !n.isDir {
			return pathErr("readdirent", dir, syscall.ENOTDIR)
		}
		names = slices.Sorted(maps.Keys(n.children))
		return nil
	})
	return names, err
}

// SyncDir makes dir's current entries its durable entries.
func (m *MemFS) SyncDir(dir string) error {
	return m.mutate("sync", dir, func() error {
		n, err := m.lookup("open", dir)
		if err != nil {
			return err
		}
		if !n.isDir {
			return pathErr("sync", dir, syscall.ENOTDIR)
		}
		n.syncedChildren = maps.Clone(n.children)
		return nil
	})
}

// Lock takes the exclusive lock named by the file, creating the file if it
// is missing (which counts as a mutating operation) with mode 0600 (see
// WithModes). It returns ErrLocked if the lock is held through this MemFS.
// Locks are not carried into clones.
func (m *MemFS) Lock(name string) (io.Closer, error) { return m.lock(name, PrivateModes.File) }

func (m *MemFS) lock(name string, perm fs.FileMode) (io.Closer, error) {
	key := path.Clean("/" + filepath.ToSlash(name))
	m.mu.Lock()
	if m.crashed != nil {
		m.mu.Unlock()
		return nil, pathErr("open", name, ErrCrashed)
	}
	if _, held := m.locks[key]; held {
		m.mu.Unlock()
		return nil, ErrLocked
	}
	dir, base, err := m.parent("open", name)
	if err != nil {
		m.mu.Unlock()
		return nil, err
	}
	var fire func()
	switch n, ok := dir.children[base]; {
	case ok && n.isDir:
		m.mu.Unlock()
		return nil, pathErr("open", name, syscall.EISDIR)
	case !ok:
		dir.children[base] = &memNode{perm: perm.Perm()}
		fire = m.countLocked()
	}
	l := &memLock{fs: m, key: key}
	m.locks[key] = l
	m.mu.Unlock()
	if fire != nil {
		fire()
	}
	return l, nil
}

// memLock is a held Lock; Close releases it.
type memLock struct {
	fs       *MemFS
	key      string
	released bool // guarded by fs.mu
}

func (l *memLock) Close() error {
	l.fs.mu.Lock()
	defer l.fs.mu.Unlock()
	if l.released {
		return pathErr("close", l.key, os.ErrClosed)
	}
	l.released = true
	if l.fs.locks[l.key] == l {
		delete(l.fs.locks, l.key)
	}
	return nil
}

// WithModes implements ModeFS: the view it returns shares this MemFS's
// files, locks, operation count and crash point.
func (m *MemFS) WithModes(modes Modes) FS { return memModes{m, modes} }

// Mode implements ModeFS: the permission bits given at creation, with
// fs.ModeDir for a directory.
func (m *MemFS) Mode(name string) (fs.FileMode, error) {
	var mode fs.FileMode
	err := m.read("stat", name, func() error {
		n, err := m.lookup("stat", name)
		if err != nil {
			return err
		}
		mode = n.perm
		if n.isDir {
			mode |= fs.ModeDir
		}
		return nil
	})
	return mode, err
}

// memModes is a MemFS creating with chosen modes; everything else is the
// MemFS's own.
type memModes struct {
	*MemFS
	modes Modes
}

func (v memModes) Create(name string) (File, error)    { return v.create(name, v.modes.File) }
func (v memModes) MkdirAll(dir string) error           { return v.mkdirAll(dir, v.modes.Dir) }
func (v memModes) Lock(name string) (io.Closer, error) { return v.lock(name, v.modes.File) }
