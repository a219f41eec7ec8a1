package vfs

import (
	"errors"
	"fmt"
	"sync"
)

// ErrOrderViolation is wrapped by the error an Auditor returns for an
// operation or an acknowledgement that breaks a write-ordering rule.
var ErrOrderViolation = errors.New("vfs: write-ordering violation")

// ViolationKind names the write-ordering rule a Violation breaks.
type ViolationKind uint8

// The rules an Auditor checks.
const (
	// AckBeforeSync: an acknowledged record lies only in bytes written
	// since its file's last fsync, so a power loss would erase it.
	AckBeforeSync ViolationKind = iota + 1
	// AckBeforeDirSync: an acknowledged record is synced, but only in a
	// file whose directory entry is not durable (a new file whose
	// directory was not fsynced), so a power loss would erase the file.
	AckBeforeDirSync
	// AckNotWritten: an acknowledged record is in no file at all.
	AckNotWritten
	// RenameBeforeSync: a file was renamed while it held unsynced data, so
	// a power loss could leave the new name pointing at a torn file. This
	// is the rule of every "write a temporary file, then rename it over the
	// real one" update (checkpoints, cursor positions, manifests).
	RenameBeforeSync
	// NotDurable: a file the program relies on (CheckDurable) holds
	// unsynced data, or its directory entry, or that of a parent
	// directory, was not made durable by an fsync of the directory.
	NotDurable
	// SyncRetry: a file or directory was fsynced again after an fsync of
	// it failed. After a failed fsync the kernel may have dropped the dirty
	// pages and marked them clean, so a later success proves nothing.
	SyncRetry
)

var violationNames = [...]string{
	AckBeforeSync:    "acknowledged before its fsync",
	AckBeforeDirSync: "acknowledged before its directory fsync",
	AckNotWritten:    "acknowledged but never written",
	RenameBeforeSync: "renamed before its fsync",
	NotDurable:       "relied on before it was durable",
	SyncRetry:        "fsync retried after a failure",
}

func (k ViolationKind) String() string {
	if k == 0 || int(k) >= len(violationNames) {
		return fmt.Sprintf("ViolationKind(%d)", uint8(k))
	}
	return violationNames[k]
}

// Violation is one broken rule, as an Auditor found it.
type Violation struct {
	Kind ViolationKind
	// Path is the file or directory concerned (for an acknowledgement,
	// where the record was found, if anywhere).
	Path string
	// What is the acknowledgement's label, or the operation ("rename
	// a -> b", "sync"), that broke the rule.
	What string
	// Detail says what was not durable.
	Detail string
	// Op numbers the violation among the mutating operations that went
	// through the Auditor (1 for the first), to place it in a trace.
	Op int
}

func (v Violation) String() string {
	s := fmt.Sprintf("%v: %s", v.Kind, v.What)
	if v.Path != "" {
		s += " (" + v.Path + ")"
	}
	if v.Detail != "" {
		s += ": " + v.Detail
	}
	return fmt.Sprintf("%s, after operation %d", s, v.Op)
}

// Error makes a Violation an error that wraps ErrOrderViolation.
func (v Violation) Error() string { return "vfs: " + v.String() }

// Unwrap returns ErrOrderViolation.
func (v Violation) Unwrap() error { return ErrOrderViolation }

// AuditOptions configures an Auditor.
type AuditOptions struct {
	// FailFast makes an operation that breaks a rule (a rename of an
	// unsynced file, a retried fsync) fail with the Violation instead of
	// reaching the inner file system. Without it the operation proceeds
	// and the violation is only recorded.
	FailFast bool
	// OnViolation, if set, is called with each violation as it is found,
	// on the goroutine that caused it (a test passes a function calling
	// t.Error). It must not call the Auditor.
	OnViolation func(Violation)
	// Exempt, if set, names files whose durability does not matter, such
	// as caches that are checked on reading, or lock files: renames of them
	// and CheckDurableTree skip them.
	Exempt func(name string) bool
}

// AuditCounts says how much an Auditor has checked.
type AuditCounts struct {
	Acknowledgements int // Acknowledge calls
	Renames          int // renames checked
	Syncs            int // file and directory fsyncs passed through
	DurableChecks    int // files checked by CheckDurable and CheckDurableTree
	Violations       int
}

// Auditor is an FS that checks write ordering as the program runs. It
// passes every operation to an inner FS and keeps, beside it, a model of
// what a power loss would leave behind (an in-memory MemFS mirror: each
// file's synced and unsynced bytes, each directory's durable entries).
// Against that model it checks:
//
//   - renames: a file is renamed only once its data is synced
//     (RenameBeforeSync);
//   - fsyncs: a file or directory whose fsync failed is never fsynced
//     again (SyncRetry);
//   - acknowledgements, when the program under test says it acknowledged
//     something: Acknowledge(label, record) requires the record's bytes to
//     be in a synced file reachable through durable directory entries
//     (AckBeforeSync, AckBeforeDirSync, AckNotWritten), and
//     CheckDurable / CheckDurableTree require whole files to be (NotDurable).
//
// Files and directories that exist on the inner FS before the Auditor
// first meets them are taken as durable.
//
// Acknowledge is called by the test right after the program acknowledged
// (for an event store, when an append returns its receipt): a violation
// is caught if the fsync is still missing then. Mutating operations are
// serialized through the Auditor so the model follows the inner FS
// exactly; the mirror holds a copy of every byte written, so an Auditor is
// for tests. Its files do not offer memory mapping (Mappable), since
// writes through a mapping would bypass it: a program under audit writes
// with WriteAt.
type Auditor struct {
	inner  FS
	opts   AuditOptions
	shadow *MemFS

	mu         sync.Mutex // serializes mutating operations and checks; guards the fields below
	ops        int
	failed     map[*memNode]bool // files and directories whose fsync failed
	violations []Violation
	counts     AuditCounts
}

var _ FS = (*Auditor)(nil)

// NewAuditor wraps inner (nil means OS) in an Auditor.
func NewAuditor(inner FS, opts AuditOptions) *Auditor {
	if inner == nil {
		inner = OS
	}
	return &Auditor{inner: inner, opts: opts, shadow: NewMem(), failed: map[*memNode]bool{}}
}

// Violations returns the violations found so far, in order.
func (a *Auditor) Violations() []Violation {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Violation(nil), a.violations...)
}

// Counts returns how much the Auditor has checked so far.
func (a *Auditor) Counts() AuditCounts {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.counts
}

// Err returns nil if no violation was found, or an error listing them all
// (each wraps ErrOrderViolation).
func (a *Auditor) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	errs := make([]error, len(a.violations))
	for i, v := range a.violations {
		errs[i] = v
	}
	return errors.Join(errs...)
}

// violate records v (a.mu held) and returns it as an error.
func (a *Auditor) violate(v Violation) error {
	v.Op = a.ops
	a.violations = append(a.violations, v)
	a.counts.Violations++
	if a.opts.OnViolation != nil {
		a.opts.OnViolation(v)
	}
	return v
}

func (a *Auditor) exempt(name string) bool {
	return a.opts.Exempt != nil && a.opts.Exempt(name)
}

// Acknowledge checks that record — bytes that identify what was
// acknowledged, such as an event's id as it is encoded on disk — is
// durable now: present in the synced contents of a file reachable from the
// root through durable directory entries. label names the acknowledgement
// in a violation. It returns the Violation, or nil.
func (a *Auditor) Acknowledge(label string, record []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.counts.Acknowledgements++
	if len(record) == 0 {
		return nil
	}
	if _, ok := a.shadow.findDurable(record); ok {
		return nil
	}
	v := Violation{Kind: AckNotWritten, What: label}
	if path, synced, ok := a.shadow.findCurrent(record); ok {
		v.Path = path
		if synced {
			v.Kind, v.Detail = AckBeforeDirSync, "the record is synced, but the file's directory entry is not"
		} else {
			v.Kind, v.Detail = AckBeforeSync, "the record is in bytes written since the file's last fsync"
		}
	}
	return a.violate(v)
}

// CheckDurable checks that the file name exists, holds no unsynced data,
// and is reachable through durable directory entries: what a program may
// assume once it reports an update of that file done (a cursor position
// saved, a manifest written). It returns the Violation, or nil.
func (a *Auditor) CheckDurable(name string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.counts.DurableChecks++
	if problem := a.shadow.durability(name); problem != "" {
		return a.violate(Violation{Kind: NotDurable, What: "check durable", Path: name, Detail: problem})
	}
	return nil
}

// CheckDurableTree runs CheckDurable on every file below dir that is not
// Exempt (for a store: after Close, or after a snapshot) and returns the
// violations joined, or nil.
func (a *Auditor) CheckDurableTree(dir string) error {
	a.mu.Lock()
	files, err := a.shadow.filesBelow(dir)
	a.mu.Unlock()
	if err != nil {
		return fmt.Errorf("vfs: auditing %s: %w", dir, err)
	}
	var errs []error
	for _, f := range files {
		if !a.exempt(f) {
			errs = append(errs, a.CheckDurable(f))
		}
	}
	return errors.Join(errs...)
}
