package batpak

import (
	"context"
	"iter"

	"github.com/batpak-go/batpak/projector"
)

// EventStore is the facade both backends give: the embedded store (*Store,
// the default) and the replicated NATS JetStream backend (module
// github.com/batpak-go/batpak/jetstream). Code written against it runs on
// either; the package storetest checks that a backend behaves as this
// documentation says.
//
// The operations keep the meaning *Store documents for its methods of the
// same name. Where *Store returns a concrete type of a core package (a
// *subscriber.Cursor, a *subscriber.Lossy), EventStore returns the small
// interface that type satisfies, through methods with their own names
// (OpenEventCursor, OpenNamedCursor, Subscribe), so *Store keeps its API.
// Errors are the package's sentinels and typed errors on either backend:
// ErrClosed after Close, ErrNotFound, *SequenceMismatchError,
// *BatchItemError, ErrDuplicate, ErrEmptyBatch, ErrBatchTooLarge,
// ErrInvalidKind, ErrPayloadTooLarge.
type EventStore interface {
	// Append appends an event and returns its receipt once acknowledged.
	Append(ctx context.Context, coord Coordinate, kind EventKind, payload any) (Receipt, error)
	// AppendWithOptions appends with an expected sequence (a mismatch is a
	// *SequenceMismatchError), an idempotency key (a retry of the same
	// event returns the first receipt with Replayed set; the key reused for
	// a different event is ErrDuplicate), correlation, causation or flags.
	AppendWithOptions(ctx context.Context, coord Coordinate, kind EventKind, payload any, opts AppendOptions) (Receipt, error)
	// AppendReaction appends an event of the workflow correlation caused
	// by causation.
	AppendReaction(ctx context.Context, coord Coordinate, kind EventKind, payload any, correlation, causation ID) (Receipt, error)
	// AppendBatch appends items atomically: all or none. A failing item
	// rejects the batch with a *BatchItemError naming it.
	AppendBatch(ctx context.Context, items []BatchItem) ([]Receipt, error)
	// Limits returns the codec and the payload bound the store's appends
	// use, for code that checks a payload before appending it (package
	// gatekeeper).
	Limits() Limits

	// Get returns the event with the given id, or ErrNotFound.
	Get(ctx context.Context, id ID) (*StoredEvent, error)
	// Latest returns an entity's newest event, or ErrNotFound.
	Latest(ctx context.Context, entity string) (*StoredEvent, error)
	// Query yields region's events in global order.
	Query(ctx context.Context, r Region) iter.Seq2[*StoredEvent, error]
	// QueryAfter yields region's events with a global sequence above after.
	QueryAfter(ctx context.Context, r Region, after uint64) iter.Seq2[*StoredEvent, error]
	// Stream yields an entity's events in sequence order.
	Stream(ctx context.Context, entity string) iter.Seq2[*StoredEvent, error]
	// ByScope yields a scope's events in global order.
	ByScope(ctx context.Context, scope string) iter.Seq2[*StoredEvent, error]
	// ByFact yields the events of one kind in global order.
	ByFact(ctx context.Context, kind EventKind) iter.Seq2[*StoredEvent, error]

	// OpenEventCursor opens a guaranteed-delivery cursor on region: every
	// event with a global sequence above from, once, in global order.
	OpenEventCursor(region Region, from uint64) (EventCursor, error)
	// OpenNamedCursor opens the durable cursor called name: it resumes after
	// the position last acknowledged, across Close and reopen.
	OpenNamedCursor(name string, region Region) (NamedCursor, error)
	// Subscribe opens a lossy subscription to the notifications of region's
	// events that commit after it returns, buffering up to capacity.
	Subscribe(region Region, capacity int) (Subscription, error)

	// ProjectionLog is the store as package projector reads it; pass it to
	// projector.Project, projector.NewWatch and friends.
	ProjectionLog() projector.Log
	// Sync returns once everything acknowledged so far is on stable storage
	// (as the backend defines it).
	Sync(ctx context.Context) error
	// Close releases the store; later calls return ErrClosed.
	Close() error
}

// EventCursor is a pull subscription with guaranteed delivery, in global
// order, without gaps or duplicates. *subscriber.Cursor implements it.
type EventCursor interface {
	// Next returns the next event, waiting until one is committed, ctx
	// ends or the cursor or store is closed.
	Next(ctx context.Context) (*StoredEvent, error)
	// NextBatch returns up to max events (max <= 0: a default), waiting as
	// Next does for the first.
	NextBatch(ctx context.Context, max int) ([]*StoredEvent, error)
	// Position is the global sequence of the last event returned, the
	// place to resume from.
	Position() uint64
	// Close ends the cursor.
	Close() error
}

// NamedCursor is a durable EventCursor whose acknowledged position survives
// Close and restarts: delivery is at-least-once. *subscriber.DurableCursor
// implements it.
type NamedCursor interface {
	EventCursor
	// Name is the cursor's name.
	Name() string
	// Ack records that every event up to and including pos is handled.
	Ack(ctx context.Context, pos uint64) error
	// Acked is the last acknowledged position.
	Acked() uint64
}

// Subscription is a lossy push subscription: a full buffer drops
// notifications and counts them, never slowing writers. *subscriber.Lossy
// implements it.
type Subscription interface {
	// Recv returns the next notification, waiting until one arrives, ctx
	// ends or the subscription or store is closed.
	Recv(ctx context.Context) (Notification, error)
	// Dropped counts the notifications lost to a full buffer.
	Dropped() uint64
	// Close ends the subscription.
	Close() error
}

// Compile-time proof that the embedded store is an EventStore.
var _ EventStore = (*Store)(nil)

// OpenEventCursor is Cursor returned as an EventCursor, for code written
// against EventStore.
func (s *Store) OpenEventCursor(region Region, from uint64) (EventCursor, error) {
	c, err := s.Cursor(region, from)
	if err != nil {
		return nil, err // never a typed nil inside the interface
	}
	return c, nil
}

// OpenNamedCursor is OpenCursor returned as a NamedCursor, for code written
// against EventStore.
func (s *Store) OpenNamedCursor(name string, region Region) (NamedCursor, error) {
	c, err := s.OpenCursor(name, region)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Subscribe is SubscribeLossy returned as a Subscription, for code written
// against EventStore.
func (s *Store) Subscribe(region Region, capacity int) (Subscription, error) {
	l, err := s.SubscribeLossy(region, capacity)
	if err != nil {
		return nil, err
	}
	return l, nil
}
