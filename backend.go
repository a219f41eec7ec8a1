package batpak

import (
	"context"
	"iter"

	"github.com/batpak-go/batpak/kinds"
	"github.com/batpak-go/batpak/projector"
	"github.com/batpak-go/batpak/snapshot"
)

// EventStore is the facade both backends give: the embedded store (*Store,
// the default) and the replicated NATS JetStream backend (module
// github.com/batpak-go/batpak/jetstream). Code written against it runs on
// either, and so do Project, the watches and NewProjector; the package
// storetest checks that a backend behaves as this documentation says.
//
// Each method means what the *Store method of the same name documents;
// where a backend differs (what "durable" means, how fresh a replica's read
// is), its package says so. Errors are the package's sentinels and typed
// errors on either backend: ErrClosed after Close, ErrNotFound,
// *SequenceMismatchError, *BatchItemError, ErrDuplicate, ErrEmptyBatch,
// ErrBatchTooLarge, ErrInvalidKind, ErrPayloadTooLarge, ErrChainBroken.
type EventStore interface {
	// Appends, one at a time, pipelined (Submit: a Ticket to wait on
	// later) or as atomic batches; reactions carry a correlation and a
	// causation.
	Append(ctx context.Context, coord Coordinate, kind EventKind, payload any) (Receipt, error)
	AppendWithOptions(ctx context.Context, coord Coordinate, kind EventKind, payload any, opts AppendOptions) (Receipt, error)
	AppendReaction(ctx context.Context, coord Coordinate, kind EventKind, payload any, correlation, causation ID) (Receipt, error)
	AppendBatch(ctx context.Context, items []BatchItem) ([]Receipt, error)
	AppendReactionBatch(ctx context.Context, correlation, causation ID, items []BatchItem) ([]Receipt, error)
	Submit(ctx context.Context, coord Coordinate, kind EventKind, payload any, opts AppendOptions) (Ticket, error)
	SubmitBatch(ctx context.Context, items []BatchItem, d Durability) (Ticket, error)
	Limits() Limits

	// Reads on the caller's goroutine; WalkAncestors checks the hash chain
	// as it goes, WaitVisible waits until a position (a receipt handed over
	// from another client) is visible to this store's reads.
	Get(ctx context.Context, id ID) (*StoredEvent, error)
	Latest(ctx context.Context, entity string) (*StoredEvent, error)
	Query(ctx context.Context, r Region) iter.Seq2[*StoredEvent, error]
	QueryAfter(ctx context.Context, r Region, after uint64) iter.Seq2[*StoredEvent, error]
	Stream(ctx context.Context, entity string) iter.Seq2[*StoredEvent, error]
	ByScope(ctx context.Context, scope string) iter.Seq2[*StoredEvent, error]
	ByFact(ctx context.Context, kind EventKind) iter.Seq2[*StoredEvent, error]
	ByCorrelation(ctx context.Context, id ID) iter.Seq2[*StoredEvent, error]
	WalkAncestors(ctx context.Context, id ID, limit int) iter.Seq2[*StoredEvent, error]
	WaitVisible(ctx context.Context, pos uint64) error

	// Delivery: guaranteed cursors (a cursor's All is the catch-up
	// subscription), durable cursors, lossy subscriptions, and react loops
	// over cursors (package react).
	Cursor(region Region, from uint64) (Cursor, error)
	DurableCursor(name string, region Region) (DurableCursor, error)
	Subscribe(region Region, capacity int) (Subscription, error)
	ReactLoop(ctx context.Context, region Region, reactor Reactor, opts ...ReactOption) (ReactLoop, error)

	// ProjectionLog is the store as package projector reads and follows
	// it: what Project, the watches and NewProjector use.
	ProjectionLog() projector.Source
	// KindNames is the store's table of kind names, kept with the log:
	// an append of a typed payload (kinds.Kind.Payload, AppendTyped)
	// teaches it the kind's name first; tools print the names.
	KindNames() kinds.Names
	// Snapshot writes a backup of the store into the directory dest: a
	// store directory of the embedded format with a manifest, which
	// VerifySnapshot checks and Open or OpenReadOnly opens.
	Snapshot(ctx context.Context, dest string) (snapshot.Manifest, error)
	// Sync returns once everything acknowledged so far is on stable
	// storage, as the backend defines it.
	Sync(ctx context.Context) error
	Close() error
}

// Cursor is a pull subscription with guaranteed delivery: every event of
// its region, in global order, without gaps or duplicates, read on the
// caller's goroutine. Its calls are serialised: a Cursor is for one
// consumer, but may be passed between goroutines.
type Cursor interface {
	// Next returns the next event, at once if one is visible, else waiting
	// until one is, ctx ends, or the cursor (ErrSubscriptionClosed) or the
	// store (ErrClosed) is closed. A read error is returned as it is, and
	// the next call tries the same event again.
	Next(ctx context.Context) (*StoredEvent, error)
	// NextBatch returns what is visible, up to max events (max <= 0: 256),
	// waiting as Next does only while nothing is. It never splits an atomic
	// batch: a call that would end inside one ends before it, and a batch
	// that starts the call and alone has more than max events of the
	// region comes whole. A consumer that applies each call's events
	// together never shows part of a batch.
	NextBatch(ctx context.Context, max int) ([]*StoredEvent, error)
	// All yields the events one by one, history first and then live as
	// they become visible, with no gap and no duplicate between the two:
	// the catch-up subscription. It ends with the error that stopped it
	// (ctx ending, Close, the store closing) yielded last, or when the loop
	// breaks.
	All(ctx context.Context) iter.Seq2[*StoredEvent, error]
	// Position is the global sequence of the last event returned (or the
	// starting position): a cursor opened there resumes right after it.
	Position() uint64
	// Close ends the cursor; it is idempotent.
	Close() error
}

// DurableCursor is a named Cursor whose acknowledged position is kept by
// the store and survives Close, restarts and crashes: opened again under
// its name, it resumes right after the last Ack. Delivery is
// at-least-once: events delivered but not acknowledged are delivered
// again. One cursor of a name may be open at a time (ErrCursorInUse).
type DurableCursor interface {
	Cursor
	// Name is the cursor's name.
	Name() string
	// Ack records, durably before it returns, that every event up to and
	// including pos is handled. pos must not be past Position
	// (ErrAckAhead); acknowledging at or below Acked does nothing.
	Ack(ctx context.Context, pos uint64) error
	// Acked is the last acknowledged position.
	Acked() uint64
}

// Subscription is a lossy push subscription: the notifications of its
// region's events as they commit, buffered up to its capacity. A full
// buffer drops notifications and counts them; a slow or abandoned
// subscriber never slows the writers. For guaranteed delivery use a
// Cursor. A Subscription is safe for concurrent use.
type Subscription interface {
	// Recv returns the next notification, waiting until one arrives, ctx
	// ends, or the subscription (ErrSubscriptionClosed) or the store
	// (ErrClosed) is closed; what was buffered is returned first.
	Recv(ctx context.Context) (Notification, error)
	// C returns a channel delivering the notifications, for range loops
	// and selects; it is closed when the subscription or the store is.
	// Use either C or Recv, not both.
	C() <-chan Notification
	// Len is the number of notifications buffered now.
	Len() int
	// Dropped counts the notifications lost to a full buffer.
	Dropped() uint64
	// Close ends the subscription; it is idempotent.
	Close() error
}

// Compile-time proof that the embedded store is an EventStore.
var _ EventStore = (*Store)(nil)
