package segment

import (
	"errors"
)

var (
	// ErrTorn marks bytes that end before a record is complete.
	ErrTorn = errors.New("segment: torn record")
	// ErrBadRecord marks bytes that are complete but not a valid record
	// (checksum mismatch, impossible length, unknown type, malformed field).
	ErrBadRecord = errors.New("segment: bad record")
)
