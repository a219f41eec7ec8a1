package kinds

import (
	"context"
	"iter"

	"github.com/batpak-go/batpak/event"
)

// Event is an event read through a Kind: the stored event (header,
// coordinate, raw payload) and its payload decoded — and upcast — into
// the kind's type.
type Event[T any] struct {
	*event.StoredEvent
	Data T
}

// The reads below take a store through the one method they need, so they
// work on every batpak.EventStore (the embedded store and the JetStream
// backend) and on anything else that reads events the same way.
type (
	// Querier is a store's Query.
	Querier interface {
		Query(ctx context.Context, r event.Region) iter.Seq2[*event.StoredEvent, error]
	}
	// Getter is a store's Get.
	Getter interface {
		Get(ctx context.Context, id event.ID) (*event.StoredEvent, error)
	}
)

// Get reads the event id as a T (ErrWrongKind if it is of another kind).
func (k *Kind[T]) Get(ctx context.Context, s Getter, id event.ID) (Event[T], error) {
	ev, err := s.Get(ctx, id)
	if err != nil {
		return Event[T]{}, err
	}
	return k.event(ev)
}

// Query yields the events of k's kind in r, in global order, as T. A
// payload that does not decode ends the loop with its error (yielded with
// the event), as a read error does.
//
//	for e, err := range Moved.Query(ctx, store, event.ForEntity("player:alice")) {
//		if err != nil { … }
//		fmt.Println(e.Sequence, e.Data.To)
//	}
func (k *Kind[T]) Query(ctx context.Context, s Querier, r event.Region) iter.Seq2[Event[T], error] {
	return k.Events(s.Query(ctx, r.WithKind(k.kind)))
}

// Events decodes the events of k's kind that seq yields, passing over
// those of other kinds: for any read of the stores (Stream, ByScope,
// ByCorrelation, a cursor's All). The first error — a read's, or a
// payload's that does not decode — is yielded last.
func (k *Kind[T]) Events(seq iter.Seq2[*event.StoredEvent, error]) iter.Seq2[Event[T], error] {
	return func(yield func(Event[T], error) bool) {
		for ev, err := range seq {
			if err != nil {
				yield(Event[T]{StoredEvent: ev}, err)
				return
			}
			if ev.Kind != k.kind {
				continue
			}
			e, err := k.event(ev)
			if !yield(e, err) || err != nil {
				return
			}
		}
	}
}

// event decodes ev into an Event; on error the Event still carries ev.
func (k *Kind[T]) event(ev *event.StoredEvent) (Event[T], error) {
	v, err := k.Decode(ev)
	return Event[T]{StoredEvent: ev, Data: v}, err
}

// EventCursor is what Cursor wraps: a store's Cursor or DurableCursor.
type EventCursor interface {
	Next(ctx context.Context) (*event.StoredEvent, error)
	Position() uint64
	Close() error
}

// Cursor is a typed cursor: guaranteed delivery of k's events as T, over
// a store's cursor (open it on a region of k's kind; events of others are
// passed over). For a durable cursor, acknowledge on the cursor it wraps.
type Cursor[T any] struct {
	k *Kind[T]
	c EventCursor
}

// Cursor wraps c, a store's cursor, as a typed cursor of k.
//
//	c, err := store.Cursor(event.ForEntity("player:*").WithKind(Moved.Kind()), 0)
//	tc := Moved.Cursor(c)
//	defer tc.Close()
//	for e, err := range tc.All(ctx) { … e.Data … }
func (k *Kind[T]) Cursor(c EventCursor) *Cursor[T] { return &Cursor[T]{k: k, c: c} }

// Next returns the next event of k's kind, waiting as the store's cursor
// does. A read error is returned as the cursor returns it (the next call
// tries again); a payload that does not decode is returned with its error
// and the event, and the cursor has moved past it.
func (c *Cursor[T]) Next(ctx context.Context) (Event[T], error) {
	for {
		ev, err := c.c.Next(ctx)
		if err != nil {
			return Event[T]{}, err
		}
		if ev.Kind == c.k.kind {
			return c.k.event(ev)
		}
	}
}

// All yields the events one by one, history then live, until the loop
// breaks or an error, yielded last, ends it.
func (c *Cursor[T]) All(ctx context.Context) iter.Seq2[Event[T], error] {
	return func(yield func(Event[T], error) bool) {
		for {
			e, err := c.Next(ctx)
			if !yield(e, err) || err != nil {
				return
			}
		}
	}
}

// Position is the global sequence of the last event the wrapped cursor
// returned.
func (c *Cursor[T]) Position() uint64 { return c.c.Position() }

// Close closes the wrapped cursor.
func (c *Cursor[T]) Close() error { return c.c.Close() }
