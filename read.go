package batpak

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/reader"
)

// Get returns the event with the given id. It runs on the caller's
// goroutine and sees only visible (in Durable mode: durable) events.
func (s *Store) Get(ctx context.Context, id ID) (*StoredEvent, error) {
	if err := s.readable(ctx); err != nil {
		return nil, err
	}
	e, ok := s.idx.LookupID(id)
	if !ok {
		return nil, fmt.Errorf("%w: %v", ErrNotFound, id)
	}
	return s.readEntry(e)
}

// Latest returns an entity's newest visible event.
func (s *Store) Latest(ctx context.Context, entity string) (*StoredEvent, error) {
	if err := s.readable(ctx); err != nil {
		return nil, err
	}
	e, ok := s.idx.Latest(entity)
	if !ok {
		return nil, fmt.Errorf("%w: entity %q has no events", ErrNotFound, entity)
	}
	return s.readEntry(e)
}

// readEntry reads the event of an index entry, with Hash.Prev filled
// (zero if its predecessor was dropped by retention).
func (s *Store) readEntry(e index.Entry) (*StoredEvent, error) {
	ev, err := s.segs.ReadEvent(s.idx, e)
	return ev, found(err)
}

// found reports an event a compaction dropped after it was looked up as
// not found.
func found(err error) error {
	if err != nil && errors.Is(err, reader.ErrEventDropped) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

func (s *Store) readable(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return ctx.Err()
}

// readErr is the error of a read that failed: ErrClosed if the store
// closed under it (its segments are closed too), else err.
func (s *Store) readErr(err error) error {
	if err != nil && s.closed.Load() {
		return ErrClosed
	}
	return err
}

// Query yields the visible events in region r in global order, from a
// snapshot taken when iteration starts, reading each on the caller's
// goroutine. Iteration stops at the first error, which is yielded. The
// events are the caller's to keep; events of one query are allocated in
// blocks and may share memory (keeping one keeps its block alive).
// Hash.Prev is filled for single-entity regions; for regions spanning
// entities it is left zero (it would cost a second read per event).
func (s *Store) Query(ctx context.Context, r Region) iter.Seq2[*StoredEvent, error] {
	return s.QueryAfter(ctx, r, 0)
}

// QueryAfter is Query limited to events with a global sequence above after.
func (s *Store) QueryAfter(ctx context.Context, r Region, after uint64) iter.Seq2[*StoredEvent, error] {
	return func(yield func(*StoredEvent, error) bool) {
		if err := s.readable(ctx); err != nil {
			yield(nil, err)
			return
		}
		_, stream := r.ExactEntity()
		s.query(ctx, reader.ScanEntries(s.idx.Scan(r, after)), reader.QueryOptions{Stream: stream}, yield)
	}
}

// ByCorrelation yields the visible events of one workflow in global order:
// the event whose id is id, if it is its own correlation (the workflow's
// root), and every event appended with Correlation id (see AppendReaction).
// The index keeps each workflow's events, so this reads only them, never
// the whole log. Like Query it reads on the caller's goroutine from a
// snapshot taken when iteration starts, stops at the first error (which it
// yields), and leaves Hash.Prev zero. An id no event carries yields nothing.
func (s *Store) ByCorrelation(ctx context.Context, id ID) iter.Seq2[*StoredEvent, error] {
	return func(yield func(*StoredEvent, error) bool) {
		if err := s.readable(ctx); err != nil {
			yield(nil, err)
			return
		}
		s.query(ctx, reader.ListEntries(s.idx.Correlated(id)), reader.QueryOptions{Correlation: id}, yield)
	}
}

// query runs a reader query with the store's checks and errors.
func (s *Store) query(ctx context.Context, src reader.Entries, o reader.QueryOptions, yield func(*StoredEvent, error) bool) {
	o.Live = func() error { return s.readable(ctx) }
	s.segs.Query(s.idx, src, o, func(ev *StoredEvent, err error) bool {
		return yield(ev, s.readErr(err))
	})
}

// Stream yields an entity's events in sequence order.
func (s *Store) Stream(ctx context.Context, entity string) iter.Seq2[*StoredEvent, error] {
	return s.Query(ctx, event.Region{Entity: entity})
}

// ByScope yields a scope's events in global order.
func (s *Store) ByScope(ctx context.Context, scope string) iter.Seq2[*StoredEvent, error] {
	return s.Query(ctx, event.ForScope(scope))
}

// ByFact yields the events of one kind in global order.
func (s *Store) ByFact(ctx context.Context, kind EventKind) iter.Seq2[*StoredEvent, error] {
	return s.Query(ctx, event.AllEvents().WithKind(kind))
}

// WalkAncestors yields the event id and then its entity's earlier events,
// newest first, following the hash chain. Each event is checked before it
// is yielded: its own hash must be the hash of its body over its
// predecessor's hash; if not, the walk yields ErrChainBroken (with a
// *CorruptionError naming the spot) instead. limit bounds the number of
// events yielded (0 means no bound; a negative limit yields
// ErrInvalidOption).
func (s *Store) WalkAncestors(ctx context.Context, id ID, limit int) iter.Seq2[*StoredEvent, error] {
	return func(yield func(*StoredEvent, error) bool) {
		if limit < 0 {
			yield(nil, fmt.Errorf("%w: WalkAncestors limit %d", ErrInvalidOption, limit))
			return
		}
		ev, err := s.Get(ctx, id)
		if err != nil {
			yield(nil, err)
			return
		}
		live := func() error { return s.readable(ctx) }
		s.segs.Ancestors(s.idx, ev, limit, live, func(ev *StoredEvent, err error) bool {
			return yield(ev, found(err))
		})
	}
}
