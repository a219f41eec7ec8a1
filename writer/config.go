package writer

import (
	"errors"
	"fmt"
	"time"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/internal/instrument"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// Config wires a writer and its fsync actor to the store. Its tuning
// fields are the store's options (docs/TUNING.md describes each):
// Defaults gives their defaults and Check their bounds.
type Config struct {
	FS          vfs.FS
	Dir         string
	Index       *index.Index
	Clock       func() time.Time
	SegmentSize int64
	HashChain   bool
	Mailbox     int // the writer's mailbox capacity
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
	// Opener opens sealed payloads read back from frames (for checking an
	// idempotent retry of an encrypted event); nil if the store does not
	// encrypt.
	Opener segment.Opener
	// OnSegment registers a newly created segment with the readers.
	OnSegment func(id uint64, f vfs.File)
	// OnPublish runs after entries become visible (to wake cursors and
	// feed subscriptions), on whichever actor holds the right to publish
	// (see link): never on two goroutines at once, always in global order.
	// It must not block.
	OnPublish func(notes []event.Notification)
	// Metrics receives the fsync latencies, the events each fsync made
	// durable and the size of each drain. Nil: New makes a Set nobody
	// reads.
	Metrics *instrument.Set
	// Inject, if set, is called at named points of the write path (tests
	// use it to fail or panic there). See the Point constants.
	Inject func(p Point) error
}

// Defaults returns the tuning the store opens with unless told otherwise.
func Defaults() Config {
	return Config{
		Clock: time.Now, SegmentSize: 64 << 20, HashChain: true, Mailbox: 4096, MaxDrain: 1024,
		SyncEveryN: 1000, SyncInterval: 100 * time.Millisecond, GroupCommitWait: 250 * time.Microsecond,
		DrainLimit: 1 << 20,
	}
}

// Check reports every tuning field out of its bounds, each as an error
// wrapping event.ErrInvalidOption.
func (c *Config) Check() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf("%w: "+format, append([]any{event.ErrInvalidOption}, args...)...))
		}
	}
	check(c.SegmentSize >= 64<<10 && c.SegmentSize <= 1<<30, "segment size %d outside 64 KiB–1 GiB", c.SegmentSize)
	check(c.SyncEveryN >= 0 && c.SyncInterval >= 0, "sync every %d / %v", c.SyncEveryN, c.SyncInterval)
	check(c.GroupCommitWait >= 0 && c.GroupCommitWait <= time.Second, "group commit wait %v outside 0–1s", c.GroupCommitWait)
	check(c.Mailbox >= 1 && c.Mailbox <= 1<<20, "mailbox capacity %d outside 1–1048576", c.Mailbox)
	check(c.MaxDrain >= 1, "max drain %d", c.MaxDrain)
	check(c.DrainLimit >= 0, "drain limit %d", c.DrainLimit)
	check(c.Clock != nil, "nil clock")
	return errors.Join(errs...)
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
