package vfs

import (
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
)

// Op names a kind of file-system operation, for FaultyFS rules and counts.
type Op uint8

// The operation kinds. Open covers Open and OpenRW; Write, Sync, Read and
// Truncate are operations on an open File. Close, Size and Name are never
// failed: they are not where storage errors come from.
const (
	OpCreate Op = iota + 1
	OpOpen
	OpWrite
	OpSync
	OpRead
	OpRename
	OpRemove
	OpSyncDir
	OpTruncate
	OpMkdir
	OpList
	OpLock
	// OpAny matches every kind in a Rule; Count(OpAny) is the total.
	OpAny
)

var opNames = [...]string{
	OpCreate: "create", OpOpen: "open", OpWrite: "write", OpSync: "sync",
	OpRead: "read", OpRename: "rename", OpRemove: "remove", OpSyncDir: "syncdir",
	OpTruncate: "truncate", OpMkdir: "mkdir", OpList: "list", OpLock: "lock",
	OpAny: "any",
}

func (o Op) String() string {
	if o == 0 || int(o) >= len(opNames) {
		return fmt.Sprintf("Op(%d)", uint8(o))
	}
	return opNames[o]
}

// Rule selects operations to fail and says how. An operation matches when
// its kind is Op (or Op is OpAny) and, if Path is set, one of its paths
// contains Path. Matches are numbered from 1 from the moment the rule is
// injected, separately for each rule.
//
// Which matches fail:
//   - by default only the Nth, once;
//   - with Persistent, the Nth and every later one;
//   - with Probability > 0, each match from the Nth on fails with that
//     probability, drawn from a generator seeded with Seed, so a seed
//     replays the same failures for the same sequence of operations.
//
// How they fail: the error wraps ErrInjected and Err (if set; use
// syscall.ENOSPC for a full disk). A failed operation does not reach the
// inner FS, so a failed Sync leaves the data unsynced, except a Short write,
// which writes the first half of the buffer and then fails with Err, or
// io.ErrShortWrite if Err is nil: a torn write.
type Rule struct {
	Op          Op
	Path        string
	Nth         int // 0 means 1
	Persistent  bool
	Probability float64
	Seed        uint64
	Short       bool // writes only: with OpAny, other kinds fail whole
	Err         error
}

// FaultyFS wraps an FS and fails operations chosen by rules, for the
// I/O-error loop: fail operation i once, or every operation from i on, and
// check the store refuses cleanly (fail-stop, no retried fsync). With no
// rules it passes everything through and only counts.
type FaultyFS struct {
	inner FS

	mu       sync.Mutex // guards the fields below
	rules    []*ruleState
	counts   [OpAny]int // by Op; index 0 unused
	injected int
}

type ruleState struct {
	Rule
	matched int
	rng     *rand.Rand
}

// NewFaulty wraps inner. Files it opens are wrapped too.
func NewFaulty(inner FS) *FaultyFS { return &FaultyFS{inner: inner} }

// Inject adds a rule; rules are consulted in the order added and the first
// that fires decides the error. Every rule counts its matches whether or not
// an earlier rule fired, so adding a rule never shifts another's Nth.
// Inject panics on a rule that cannot mean anything (no Op, a negative Nth,
// a Probability outside [0, 1], Short without writes): a bug in the test.
func (f *FaultyFS) Inject(r Rule) {
	switch {
	case r.Op == 0 || r.Op > OpAny:
		panic(fmt.Sprintf("vfs: Rule.Op %v is not an operation kind", r.Op))
	case r.Nth < 0:
		panic("vfs: Rule.Nth is negative")
	case r.Probability < 0 || r.Probability > 1:
		panic("vfs: Rule.Probability is outside [0, 1]")
	case r.Short && r.Op != OpWrite && r.Op != OpAny:
		panic("vfs: Rule.Short applies to writes only")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, &ruleState{
		Rule: r,
		rng:  rand.New(rand.NewPCG(r.Seed, 0x6661756c7479)),
	})
}

// Reset removes every rule and zeroes the counts, leaving a pass-through.
func (f *FaultyFS) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = nil
	f.counts = [OpAny]int{}
	f.injected = 0
}

// Count returns how many operations of kind op were attempted through f,
// failed ones included. Count(OpAny) is the total.
func (f *FaultyFS) Count(op Op) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if op == OpAny {
		total := 0
		for _, n := range f.counts {
			total += n
		}
		return total
	}
	if op == 0 || op > OpAny {
		return 0
	}
	return f.counts[op]
}

// Injected returns how many errors f has injected, so a test can tell a
// rule that fired from one that never matched.
func (f *FaultyFS) Injected() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.injected
}

// fault counts one operation and returns the injected error if a rule fires
// (nil otherwise) and whether the rule asks for a short write.
func (f *FaultyFS) fault(op Op, paths ...string) (short bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts[op]++
	var fired *ruleState
	for _, r := range f.rules {
		if r.fires(op, paths) && fired == nil {
			fired = r
		}
	}
	if fired == nil {
		return false, nil
	}
	f.injected++
	short = fired.Short && op == OpWrite
	cause := fired.Err
	if cause == nil && short {
		cause = io.ErrShortWrite
	}
	if cause == nil {
		return short, fmt.Errorf("%w (%v #%d)", ErrInjected, op, fired.matched)
	}
	return short, fmt.Errorf("%w (%v #%d): %w", ErrInjected, op, fired.matched, cause)
}

// fires advances the rule's match count for op and decides whether it fails.
func (r *ruleState) fires(op Op, paths []string) bool {
	if r.Op != OpAny && r.Op != op {
		return false
	}
	if r.Path != "" && !containsAny(paths, r.Path) {
		return false
	}
	r.matched++
	nth := max(r.Nth, 1)
	switch {
	case r.matched < nth:
		return false
	case r.Probability > 0:
		return r.rng.Float64() < r.Probability
	case r.Persistent:
		return true
	default:
		return r.matched == nth
	}
}

func containsAny(paths []string, sub string) bool {
	for _, p := range paths {
		if strings.Contains(p, sub) {
			return true
		}
	}
	return false
}

var _ FS = (*FaultyFS)(nil)

// Create, OpenRW, Open, Remove, Rename, MkdirAll, List, SyncDir and Lock
// implement FS: each counts itself, may fail by the rules, and otherwise
// calls the inner FS.

func (f *FaultyFS) Create(name string) (File, error) { return f.create(f.inner, name) }

// create, mkdirAll and lock run on creator, which is the inner FS or, for
// a WithModes view, the inner FS creating with the view's modes.
func (f *FaultyFS) create(creator FS, name string) (File, error) {
	if _, err := f.fault(OpCreate, name); err != nil {
		return nil, pathErr("open", name, err)
	}
	return f.wrap(creator.Create(name))
}

func (f *FaultyFS) OpenRW(name string) (File, error) {
	if _, err := f.fault(OpOpen, name); err != nil {
		return nil, pathErr("open", name, err)
	}
	return f.wrap(f.inner.OpenRW(name))
}

func (f *FaultyFS) Open(name string) (File, error) {
	if _, err := f.fault(OpOpen, name); err != nil {
		return nil, pathErr("open", name, err)
	}
	return f.wrap(f.inner.Open(name))
}

func (f *FaultyFS) wrap(file File, err error) (File, error) {
	if err != nil {
		return nil, err
	}
	return &faultyFile{File: file, fs: f}, nil
}

func (f *FaultyFS) Remove(name string) error {
	if _, err := f.fault(OpRemove, name); err != nil {
		return pathErr("remove", name, err)
	}
	return f.inner.Remove(name)
}

func (f *FaultyFS) Rename(oldname, newname string) error {
	if _, err := f.fault(OpRename, oldname, newname); err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	return f.inner.Rename(oldname, newname)
}

func (f *FaultyFS) MkdirAll(dir string) error { return f.mkdirAll(f.inner, dir) }

func (f *FaultyFS) mkdirAll(creator FS, dir string) error {
	if _, err := f.fault(OpMkdir, dir); err != nil {
		return pathErr("mkdir", dir, err)
	}
	return creator.MkdirAll(dir)
}

func (f *FaultyFS) List(dir string) ([]string, error) {
	if _, err := f.fault(OpList, dir); err != nil {
		return nil, pathErr("open", dir, err)
	}
	return f.inner.List(dir)
}

func (f *FaultyFS) SyncDir(dir string) error {
	if _, err := f.fault(OpSyncDir, dir); err != nil {
		return pathErr("sync", dir, err)
	}
	return f.inner.SyncDir(dir)
}

func (f *FaultyFS) Lock(name string) (io.Closer, error) { return f.lock(f.inner, name) }

func (f *FaultyFS) lock(creator FS, name string) (io.Closer, error) {
	if _, err := f.fault(OpLock, name); err != nil {
		return nil, pathErr("lock", name, err)
	}
	return creator.Lock(name)
}

// WithModes implements ModeFS: the view it returns shares this FaultyFS's
// rules and counts, and creates through the inner FS's WithModes (if the
// inner FS is not a ModeFS, with its own modes).
func (f *FaultyFS) WithModes(m Modes) FS { return faultyModes{f, WithModes(f.inner, m)} }

// Mode implements ModeFS by asking the inner FS; it is never failed.
func (f *FaultyFS) Mode(name string) (fs.FileMode, error) { return Mode(f.inner, name) }

func (f *FaultyFS) unwrapFS() FS { return f.inner }

// faultyModes is a FaultyFS creating through creator.
type faultyModes struct {
	*FaultyFS
	creator FS
}

func (v faultyModes) Create(name string) (File, error)    { return v.create(v.creator, name) }
func (v faultyModes) MkdirAll(dir string) error           { return v.mkdirAll(v.creator, dir) }
func (v faultyModes) Lock(name string) (io.Closer, error) { return v.lock(v.creator, name) }

// faultyFile fails reads, writes, syncs and truncates by the rules of its
// FaultyFS; Close, Size and Name pass through.
type faultyFile struct {
	File
	fs *FaultyFS
}

func (ff *faultyFile) ReadAt(p []byte, off int64) (int, error) {
	if _, err := ff.fs.fault(OpRead, ff.Name()); err != nil {
		return 0, pathErr("read", ff.Name(), err)
	}
	return ff.File.ReadAt(p, off)
}

func (ff *faultyFile) WriteAt(p []byte, off int64) (int, error) {
	short, err := ff.fs.fault(OpWrite, ff.Name())
	if err == nil {
		return ff.File.WriteAt(p, off)
	}
	if !short {
		return 0, pathErr("write", ff.Name(), err)
	}
	n, werr := ff.File.WriteAt(p[:len(p)/2], off)
	if werr != nil {
		return n, werr
	}
	return n, pathErr("write", ff.Name(), err)
}

func (ff *faultyFile) Sync() error {
	if _, err := ff.fs.fault(OpSync, ff.Name()); err != nil {
		return pathErr("sync", ff.Name(), err)
	}
	return ff.File.Sync()
}

func (ff *faultyFile) Truncate(size int64) error {
	if _, err := ff.fs.fault(OpTruncate, ff.Name()); err != nil {
		return pathErr("truncate", ff.Name(), err)
	}
	return ff.File.Truncate(size)
}
