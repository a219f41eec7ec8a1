package writer

import (
	"time"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/vfs"
)

// Config wires a writer and its fsync actor to the store.
type Config struct {
	FS          vfs.FS
	Dir         string
	Index       *index.Index
	Clock       func() time.Time
	SegmentSize int64
	HashChain   bool
	MaxDrain    int // commands taken per mailbox drain (the bound of one drain)
	// SyncEveryN and SyncInterval bound unsynced on-write events.
	SyncEveryN   int
	SyncInterval time.Duration
	// GroupCommitWait bounds how long the fsync actor waits for callers of
	// the last group to come back before syncing (0 disables the wait).
	GroupCommitWait time.Duration
	// DrainLimit is how many queued commands Close still processes.
	DrainLimit int
	// SyncData makes the segment fsyncs fdatasync(2) where the platform
	// has it (vfs.SyncData): the data and the file's size, without
	// timestamps. New files and directories are still fsynced in full.
	SyncData bool

	// LoadEvent reads a published event (for idempotent replays and for
	// re-deriving an entity's tail hash).
	LoadEvent func(index.Entry) (*event.StoredEvent, error)
	// ReadSegment reads bytes of a segment the writer wrote and has since
	// sealed (for checking an idempotent retry against a frame not yet
	// published; see keys.go).
	ReadSegment func(id uint64, p []byte, off int64) error
	// BeginsBatch reports whether the frame right before the published
	// event at e is the BEGIN marker of a batch of count events starting
	// with it (for idempotent batch retries; see keys.go).
	BeginsBatch func(e index.Entry, count int) (bool, error)
	// OnSegment registers a newly created segment with the readers.
	OnSegment func(id uint64, f vfs.File)
	// OnPublish runs after entries become visible (to wake cursors and
	// feed subscriptions), on whichever actor holds the right to publish
	// (see link): never on two goroutines at once, always in global order.
	// It must not block.
	OnPublish func(notes []event.Notification)
	// Inject, if set, is called at named points of the write path (tests
	// use it to fail or panic there). See the Point constants.
	Inject func(p Point) error
}

// Point names a place on the write path for fault injection.
type Point string

const (
	PointBeforeWrite   Point = "before-write"
	PointBatchBegin    Point = "batch-begin"
	PointBatchItem     Point = "batch-item"
	PointBatchCommit   Point = "batch-commit"
	PointBeforeHandoff Point = "before-handoff"
	PointBeforeFsync   Point = "before-fsync"
	PointBeforePublish Point = "before-publish"
	PointRotate        Point = "rotate"
)
