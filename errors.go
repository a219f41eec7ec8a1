package batpak

import (
	"errors"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/subscriber"
	"github.com/batpak-go/batpak/vfs"
	"github.com/batpak-go/batpak/writer"
)

// The errors batpak returns. Match them with errors.Is; the typed errors
// below carry details for errors.As. Context errors are returned as they are.
var (
	// ErrClosed is returned by every call after Close.
	ErrClosed = errors.New("batpak: store closed")
	// ErrReadOnly is returned by writes to a store opened with OpenReadOnly.
	ErrReadOnly = errors.New("batpak: store opened read-only")
	// ErrNotFound is returned by Get for an unknown id.
	ErrNotFound = errors.New("batpak: event not found")
	// ErrLocked is returned by Open when another open store holds the directory.
	ErrLocked = vfs.ErrLocked
	// ErrInvalidOption is returned by Open for an option out of range, by
	// calls given an argument out of range (a negative limit), and by
	// appends for an idempotency key above 1,024 bytes.
	ErrInvalidOption = event.ErrInvalidOption
	// ErrPayloadTooLarge is returned for a payload above the MaxPayload option.
	ErrPayloadTooLarge = event.ErrPayloadTooLarge
	// ErrBatchTooLarge is returned for a batch above MaxBatchItems or MaxBatchBytes.
	ErrBatchTooLarge = errors.New("batpak: batch too large")
	// ErrEmptyBatch is returned for a batch with no items.
	ErrEmptyBatch = errors.New("batpak: empty batch")
	// ErrOutcomeUnknown is returned when the writer stopped for good while
	// an append was in flight: it may or may not have been written. Retry
	// with an idempotency key to make the retry exactly-once.
	ErrOutcomeUnknown = errors.New("batpak: outcome unknown: the writer stopped while the append was in flight")
	// ErrChainBroken is returned by WalkAncestors and reported by Verify
	// when a hash link or an entity's sequence does not verify.
	ErrChainBroken = reader.ErrChainBroken
	// ErrInvalidKind is returned for an appended kind of the reserved
	// categories 0x0 (system, kind 0 included) and 0xD (effect), the
	// library's own kinds included (event.CheckKind).
	ErrInvalidKind = event.ErrReservedKind

	// ErrNotPortable is matched by the error of Open, DurableCursor and
	// Snapshot for a name of a file or directory to create that is not
	// portable to Linux, macOS and Windows (vfs.PortableName).
	ErrNotPortable = vfs.ErrNotPortable

	// ErrInvalidCoordinate is matched by every *CoordinateError.
	ErrInvalidCoordinate = event.ErrInvalidCoordinate
	// ErrSequenceMismatch is matched by every *SequenceMismatchError.
	ErrSequenceMismatch = event.ErrSequenceMismatch
	// ErrDuplicate is returned when an idempotency key is reused for a
	// different event (another coordinate, kind or payload), a retried
	// batch is not the original batch, or a batch mixes seen and new keys.
	ErrDuplicate = writer.ErrDuplicate
	// ErrFailStop wraps the storage error that stopped all writes.
	ErrFailStop = writer.ErrFailStop
	// ErrShuttingDown is returned to commands queued past Close's drain limit.
	ErrShuttingDown = writer.ErrShuttingDown
	// ErrNotWritten is returned when the writer crashed holding a command:
	// nothing of it was written, so a retry is safe.
	ErrNotWritten = writer.ErrNotWritten
	// ErrBatchInvalid is matched by every *BatchItemError.
	ErrBatchInvalid = event.ErrBatchInvalid
	// ErrSegmentReplaced is returned by reads of a read-only store when a
	// segment it had closed (WithMaxOpenSegments) was replaced by the
	// writing process's Compact meanwhile: reopen the store.
	ErrSegmentReplaced = reader.ErrSegmentReplaced
	// ErrCorrupt is matched by every *CorruptionError.
	ErrCorrupt = event.ErrCorrupt
	// ErrForeignDir is matched by every *ForeignDirError: a directory
	// holding files a store does not make, in which nothing is created.
	ErrForeignDir = event.ErrForeignDir
	// ErrBatpakRustStore is matched by the *ForeignDirError for a
	// directory holding a batpak-rust store; `batpak import` converts it.
	ErrBatpakRustStore = event.ErrBatpakRustStore

	// ErrSubscriptionClosed is returned by a Cursor or Subscription after
	// its own Close.
	ErrSubscriptionClosed = subscriber.ErrClosed
	// ErrInvalidCursorName is matched by the error of DurableCursor for a
	// name that is empty, longer than 128 bytes, starts with '.', holds
	// anything but ASCII letters, digits, '.', '_' and '-', or is not
	// portable (ErrNotPortable).
	ErrInvalidCursorName = subscriber.ErrInvalidCursorName
	// ErrCursorInUse is returned by DurableCursor for a name already open.
	ErrCursorInUse = subscriber.ErrCursorInUse
	// ErrCursorCorrupt is matched by the error DurableCursor returns when
	// a cursor's position file fails its checks. Nothing is overwritten:
	// move the file away (its path is in the message) to start afresh.
	ErrCursorCorrupt = subscriber.ErrCursorCorrupt
	// ErrAckAhead is returned by Ack for a position not yet delivered.
	ErrAckAhead = subscriber.ErrAckAhead
)

// Typed errors.
type (
	// CoordinateError says which part of a coordinate broke which rule.
	CoordinateError = event.CoordinateError
	// SequenceMismatchError reports a failed expected-sequence check.
	SequenceMismatchError = event.SequenceMismatchError
	// BatchItemError names the item that rejected a batch.
	BatchItemError = event.BatchItemError
	// CorruptionError locates damage by segment and offset.
	CorruptionError = event.CorruptionError
	// ForeignDirError names what Open, OpenReadOnly or VerifyDir found in
	// a directory that is not a batpak store's.
	ForeignDirError = event.ForeignDirError
)
