package segment

import (
	"errors"
	"fmt"
)

var (
	// ErrTorn marks bytes that end before a record is complete.
	ErrTorn = errors.New("segment: torn record")
	// ErrBadRecord marks bytes that are complete but not a valid record
	// (checksum mismatch, impossible length, unknown type, malformed field).
	ErrBadRecord = errors.New("segment: bad record")
	// ErrCorrupt is matched (errors.Is) by every *CorruptionError.
	ErrCorrupt = errors.New("batpak: corrupt data")
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
