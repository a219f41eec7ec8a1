package subscriber

import "errors"

// The errors of package subscriber. Match them with errors.Is. A closed
// store is reported with the store's own error (batpak.ErrClosed), which
// the store hands to the Hub in Options.
var (
	// ErrClosed is returned by a subscription or cursor its owner has closed.
	ErrClosed = errors.New("batpak: subscription closed")
	// ErrDone is returned by a Take stream once it has passed on its count.
	ErrDone = errors.New("batpak: stream done")
	// ErrInvalidCapacity is returned for a lossy subscription whose buffer
	// capacity is below 1 or above MaxCapacity.
	ErrInvalidCapacity = errors.New("batpak: invalid subscription capacity")
	// ErrInvalidCursorName is returned by OpenCursor for a name that is
	// empty, too long, holds anything but letters, digits, '.', '_' and
	// '-', or is not a portable file name (see ValidCursorName).
	ErrInvalidCursorName = errors.New("batpak: invalid cursor name")
	// ErrCursorInUse is returned by OpenCursor for a name already open.
	ErrCursorInUse = errors.New("batpak: durable cursor already open")
	// ErrCursorCorrupt is matched by the error OpenCursor returns when a
	// cursor's position file fails its checks. Nothing is overwritten: move
	// the file away (its path is in the message) to start the cursor afresh.
	ErrCursorCorrupt = errors.New("batpak: durable cursor file corrupt")
	// ErrAckAhead is returned by Ack for a position the cursor has not yet
	// delivered.
	ErrAckAhead = errors.New("batpak: ack beyond the delivered position")
	// ErrStale is wrapped by a Log.Load error when entries taken from the
	// index name an event no longer in the log (a compaction dropped it
	// since): fresh entries will not. Cursors take them and load again.
	ErrStale = errors.New("batpak: index entries outdated by a compaction")
)
