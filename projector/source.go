package projector

import (
	"context"

	"github.com/batpak-go/batpak/event"
)

// Source is what live projections need from the store beyond a Log: a
// guaranteed feed of new events and a wait for visibility. The store's
// subscriptions provide both (a cursor is a Feed).
type Source interface {
	Log
	// Follow opens a feed of r's events with a global sequence above from,
	// in global order, with no gaps and no duplicates.
	Follow(r event.Region, from uint64) (Feed, error)
	// WaitVisible blocks until the event with global sequence pos, and
	// every event before it, is visible, or ctx ends.
	WaitVisible(ctx context.Context, pos uint64) error
	// Final reports whether err, returned by the source, means the store
	// has stopped for good (closed, or failed): live projections then stop
	// instead of restarting.
	Final(err error) bool
}

// Feed is a guaranteed, ordered stream of events: a cursor. NextBatch
// returns what is visible (at most max events), blocking only while
// nothing is, and never splits an atomic batch: a batch's events in the
// feed's region come in one call, even when that is more than max. A live
// projection applies each call's events under one lock, so this is what
// keeps a half-applied batch from its readers. The events returned belong
// to the caller.
type Feed interface {
	NextBatch(ctx context.Context, max int) ([]*event.StoredEvent, error)
	Close() error
}

// Waker wakes a watch when events of its region may have become visible:
// a lossy subscription. Notifications may be dropped when its buffer is
// full — a full buffer holds one that will wake the watch, and the watch
// reads the log up to its head on every wake-up, so nothing is missed —
// and extra wake-ups are harmless.
type Waker interface {
	Recv(ctx context.Context) (event.Notification, error)
	Close() error
}
