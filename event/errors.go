package event

import (
	"errors"
	"fmt"
	"strings"
)

// The errors a store reports that callers match with errors.Is, each
// matched by a typed error below that carries the details (errors.As).
// They are defined here, with the value types, because the packages below
// the facade construct them and the facade returns them as they are.
var (
	// ErrCorrupt is matched by every *CorruptionError.
	ErrCorrupt = errors.New("batpak: corrupt data")
	// ErrSequenceMismatch is matched by every *SequenceMismatchError.
	ErrSequenceMismatch = errors.New("batpak: expected sequence mismatch")
	// ErrBatchInvalid is matched by every *BatchItemError.
	ErrBatchInvalid = errors.New("batpak: batch rejected")
	// ErrForeignDir is matched by every *ForeignDirError.
	ErrForeignDir = errors.New("batpak: not a batpak store directory")
	// ErrBatpakRustStore is matched by a *ForeignDirError for a directory
	// holding a store of batpak-rust, the Rust original.
	ErrBatpakRustStore = errors.New("batpak: the directory holds a batpak-rust store")
)

// CorruptionError locates damage inside a segment: the segment, the byte
// offset of the first bad frame, and how many bytes from there on could not
// be read as valid frames.
type CorruptionError struct {
	Segment uint64
	Offset  int64
	Lost    int64 // bytes from Offset that are unreadable
	Cause   error
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("batpak: corrupt segment %016x at offset %d (%d bytes affected): %v",
		e.Segment, e.Offset, e.Lost, e.Cause)
}

func (e *CorruptionError) Unwrap() error { return e.Cause }

// Is makes errors.Is(err, ErrCorrupt) true for every CorruptionError.
func (e *CorruptionError) Is(target error) bool { return target == ErrCorrupt }

// SequenceMismatchError reports a failed expected-sequence check: the
// entity's next sequence was Actual, not Expected.
type SequenceMismatchError struct {
	Entity   string
	Expected uint64
	Actual   uint64
}

func (e *SequenceMismatchError) Error() string {
	return fmt.Sprintf("batpak: expected sequence mismatch on %q: expected next %d, actual next %d",
		e.Entity, e.Expected, e.Actual)
}

// Is makes errors.Is(err, ErrSequenceMismatch) true.
func (e *SequenceMismatchError) Is(target error) bool { return target == ErrSequenceMismatch }

// BatchItemError says which item rejected a whole batch, and why.
type BatchItemError struct {
	Item int
	Err  error
}

func (e *BatchItemError) Error() string {
	return fmt.Sprintf("batpak: batch rejected at item %d: %v", e.Item, e.Err)
}

func (e *BatchItemError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrBatchInvalid) true.
func (e *BatchItemError) Is(target error) bool { return target == ErrBatchInvalid }

// ForeignDirError is returned for a directory that holds files a batpak
// store does not make: opening it as a store would write a segment, a
// lock and a checkpoint among someone else's files (and Verify would call
// it an empty store). Nothing is created or changed in such a directory.
type ForeignDirError struct {
	Dir string
	// BatpakRust is set when the directory holds batpak-rust segments
	// (NNNNNN.fbat) or its index.ckpt: `batpak import` converts those.
	BatpakRust bool
	// Names are the entries that were not recognised (the first few).
	Names []string
}

func (e *ForeignDirError) Error() string {
	if e.BatpakRust {
		return fmt.Sprintf("batpak: %s holds a batpak-rust store (%s), which batpak-go neither opens nor writes into; "+
			"convert it with `batpak import %s NEW-DIR`", e.Dir, strings.Join(e.Names, ", "), e.Dir)
	}
	return fmt.Sprintf("batpak: %s holds files a batpak store does not make (%s); refusing to use it as a store directory",
		e.Dir, strings.Join(e.Names, ", "))
}

// Is makes errors.Is(err, ErrForeignDir) true for every ForeignDirError,
// and errors.Is(err, ErrBatpakRustStore) for one that found batpak-rust's.
func (e *ForeignDirError) Is(target error) bool {
	return target == ErrForeignDir || (target == ErrBatpakRustStore && e.BatpakRust)
}
