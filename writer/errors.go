package writer

import (
	"errors"
	"fmt"
)

var (
	// ErrFailStop wraps the storage error that stopped the writer.
	ErrFailStop = errors.New("batpak: writer stopped after a storage failure")
	// ErrSequenceMismatch is matched by every *SequenceMismatchError.
	ErrSequenceMismatch = errors.New("batpak: expected sequence mismatch")
	// ErrDuplicate is returned when an idempotency key is reused for a
	// different event (another coordinate, kind or payload), a retried
	// batch is not the original batch, or a batch mixes already-seen and
	// new keys.
	ErrDuplicate = errors.New("batpak: idempotency key reused for a different event")
	// ErrShuttingDown is returned for commands still queued when Close's
	// drain limit was reached.
	ErrShuttingDown = errors.New("batpak: store is shutting down")
	// ErrNotWritten is returned to commands in the writer's hands when it
	// crashed: nothing of them was written (the restarted writer truncates
	// any bytes it had not handed on), so a retry is safe.
	ErrNotWritten = errors.New("batpak: writer crashed before writing this command; nothing was written")
	// ErrBatchInvalid is matched by every *BatchItemError.
	ErrBatchInvalid = errors.New("batpak: batch rejected")
)

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
