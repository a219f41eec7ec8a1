package vfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// The Auditor's FS operations: each runs on the inner FS and, if it
// succeeds, on the mirror, checking the rules on the way.

// ensure makes the mirror know name and its parent directories, importing
// from the inner FS (as durable) whatever exists there and not yet in the
// mirror. a.mu must be held. Errors of the inner FS are left for the real
// operation to report.
func (a *Auditor) ensure(name string) {
	var chain []string
	for p := filepath.Clean(name); ; p = filepath.Dir(p) {
		chain = append(chain, p)
		if filepath.Dir(p) == p || p == "." {
			break
		}
	}
	for i := len(chain) - 2; i >= 0; i-- { // from below the root down
		p := chain[i]
		if a.shadow.exists(p) {
			continue
		}
		names, err := a.inner.List(filepath.Dir(p))
		if err != nil || !contains(names, filepath.Base(p)) {
			return // it does not exist yet: the operation will create it
		}
		if i > 0 {
			a.shadow.importDir(p)
			continue
		}
		// The leaf: a directory lists, a file reads.
		if _, err := a.inner.List(p); err == nil {
			a.shadow.importDir(p)
			continue
		}
		a.shadow.importFile(p, a.readInner(p))
	}
}

func contains(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// readInner reads a file of the inner FS whole (nil if it cannot).
func (a *Auditor) readInner(name string) []byte {
	f, err := a.inner.Open(name)
	if err != nil {
		return nil
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil || size <= 0 {
		return nil
	}
	b := make([]byte, size)
	n, err := f.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil
	}
	return b[:n]
}

// Create, OpenRW, Open, Remove, Rename, MkdirAll, List, SyncDir and Lock
// implement FS: each runs on the inner FS and, if it succeeds, on the mirror.

func (a *Auditor) Create(name string) (File, error) { return a.create(a.inner, name) }

// create, mkdirAll and lock run on creator, which is the inner FS or, for
// a WithModes view, the inner FS creating with the view's modes.
func (a *Auditor) create(creator FS, name string) (File, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ensure(filepath.Dir(name))
	f, err := creator.Create(name)
	if err != nil {
		return nil, err
	}
	a.ops++
	_ = a.shadow.Remove(name) // a file the mirror missed; the inner Create proved it gone
	sf, err := a.shadow.Create(name)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("vfs: auditor mirror: %w", err)
	}
	return &auditFile{File: f, a: a, shadow: sf.(*memFile)}, nil
}

func (a *Auditor) OpenRW(name string) (File, error) { return a.open(name, a.inner.OpenRW) }

func (a *Auditor) Open(name string) (File, error) { return a.open(name, a.inner.Open) }

func (a *Auditor) open(name string, open func(string) (File, error)) (File, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f, err := open(name)
	if err != nil {
		return nil, err
	}
	a.ensure(name)
	sf, err := a.shadow.OpenRW(name)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("vfs: auditor mirror: %w", err)
	}
	return &auditFile{File: f, a: a, shadow: sf.(*memFile)}, nil
}

func (a *Auditor) Remove(name string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ensure(name)
	if err := a.inner.Remove(name); err != nil {
		return err
	}
	a.ops++
	_ = a.shadow.Remove(name)
	return nil
}

func (a *Auditor) Rename(oldname, newname string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ensure(oldname)
	a.ensure(filepath.Dir(newname))
	a.counts.Renames++
	if !a.exempt(newname) {
		if lo, hi, ok := a.shadow.unsynced(oldname); ok {
			v := a.violate(Violation{
				Kind: RenameBeforeSync, What: fmt.Sprintf("rename %s -> %s", oldname, newname), Path: oldname,
				Detail: fmt.Sprintf("bytes %d..%d were never fsynced", lo, hi),
			})
			if a.opts.FailFast {
				return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: v}
			}
		}
	}
	if err := a.inner.Rename(oldname, newname); err != nil {
		return err
	}
	a.ops++
	_ = a.shadow.Rename(oldname, newname)
	return nil
}

func (a *Auditor) MkdirAll(dir string) error { return a.mkdirAll(a.inner, dir) }

func (a *Auditor) mkdirAll(creator FS, dir string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ensure(dir)
	if err := creator.MkdirAll(dir); err != nil {
		return err
	}
	a.ops++
	return a.shadow.MkdirAll(dir)
}

// List is not audited: it reads the inner FS.
func (a *Auditor) List(dir string) ([]string, error) { return a.inner.List(dir) }

func (a *Auditor) SyncDir(dir string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ensure(dir)
	node := a.shadow.node(dir)
	if err := a.checkRetry(node, "sync directory", dir); err != nil {
		return err
	}
	err := a.inner.SyncDir(dir)
	a.counts.Syncs++
	a.ops++
	if err != nil {
		a.markFailed(node)
		return err
	}
	return a.shadow.SyncDir(dir)
}

// checkRetry reports a SyncRetry if node's fsync failed before (a.mu held).
func (a *Auditor) checkRetry(node *memNode, what, name string) error {
	if node == nil || !a.failed[node] {
		return nil
	}
	v := a.violate(Violation{Kind: SyncRetry, What: what, Path: name, Detail: "an earlier fsync of it failed"})
	if a.opts.FailFast {
		return &os.PathError{Op: "sync", Path: name, Err: v}
	}
	return nil
}

func (a *Auditor) markFailed(node *memNode) {
	if node != nil {
		a.failed[node] = true
	}
}

func (a *Auditor) Lock(name string) (io.Closer, error) { return a.lock(a.inner, name) }

func (a *Auditor) lock(creator FS, name string) (io.Closer, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ensure(name)
	c, err := creator.Lock(name)
	if err != nil {
		return nil, err
	}
	if !a.shadow.exists(name) { // Lock created it
		a.ops++
		if f, err := a.shadow.Create(name); err == nil {
			f.Close()
		}
	}
	return c, nil
}

// WithModes implements ModeFS: the view it returns shares this Auditor's
// mirror, counts and violations, and creates through the inner FS's
// WithModes (if the inner FS is not a ModeFS, with its own modes).
func (a *Auditor) WithModes(m Modes) FS { return auditModes{a, WithModes(a.inner, m)} }

// Mode implements ModeFS by asking the inner FS; it is not audited.
func (a *Auditor) Mode(name string) (fs.FileMode, error) { return Mode(a.inner, name) }

func (a *Auditor) unwrapFS() FS { return a.inner }

// auditModes is an Auditor creating through creator.
type auditModes struct {
	*Auditor
	creator FS
}

func (v auditModes) Create(name string) (File, error)    { return v.create(v.creator, name) }
func (v auditModes) MkdirAll(dir string) error           { return v.mkdirAll(v.creator, dir) }
func (v auditModes) Lock(name string) (io.Closer, error) { return v.lock(v.creator, name) }

// auditFile is a file opened through an Auditor: writes, syncs and
// truncates go to the inner file and then to its mirror.
type auditFile struct {
	File
	a      *Auditor
	shadow *memFile
}

func (f *auditFile) WriteAt(p []byte, off int64) (int, error) {
	f.a.mu.Lock()
	defer f.a.mu.Unlock()
	n, err := f.File.WriteAt(p, off)
	if n > 0 {
		f.a.ops++
		_, _ = f.shadow.WriteAt(p[:n], off) // a short write left n bytes
	}
	return n, err
}

func (f *auditFile) Sync() error {
	f.a.mu.Lock()
	defer f.a.mu.Unlock()
	if err := f.a.checkRetry(f.shadow.node, "sync", f.Name()); err != nil {
		return err
	}
	err := f.File.Sync()
	f.a.counts.Syncs++
	f.a.ops++
	if err != nil {
		f.a.markFailed(f.shadow.node)
		return err
	}
	return f.shadow.Sync()
}

func (f *auditFile) Truncate(size int64) error {
	f.a.mu.Lock()
	defer f.a.mu.Unlock()
	if err := f.File.Truncate(size); err != nil {
		return err
	}
	f.a.ops++
	return f.shadow.Truncate(size)
}

func (f *auditFile) Close() error {
	_ = f.shadow.Close()
	return f.File.Close()
}
