package writer

import (
	"errors"
)

var (
	// ErrFailStop wraps the storage error that stopped the writer.
	ErrFailStop = errors.New("batpak: writer stopped after a storage failure")
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
)
