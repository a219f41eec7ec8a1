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
	e, pe, hasPrev, ok := s.idx.LookupIDLinked(id)
	if !ok {
		return nil, fmt.Errorf("%w: %v", ErrNotFound, id)
	}
	ev, err := s.segs.ReadLinked(s.idx, e, pe, hasPrev)
	return ev, found(err)
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

// readEntry reads an index entry's event, with Hash.Prev filled.
func (s *Store) readEntry(e index.Entry) (*StoredEvent, error) {
	ev, err := s.segs.ReadEvent(s.idx, e)
	return ev, found(err)
}

// found reports an event a compaction dropped since it was looked up as
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

// readErr is ErrClosed for a read the store's Close failed, else err.
func (s *Store) readErr(err error) error {
	if err != nil && s.closed.Load() {
		return ErrClosed
	}
	return err
}

// Query yields the visible events in region r in global order, from a
// snapshot taken when iteration starts, reading on the caller's goroutine;
// the first error is yielded last. The events are the caller's; those of
// one block share memory (keeping one keeps its block alive). Hash.Prev is
// filled for one entity's events, left zero across entities.
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

// ByCorrelation yields the visible events of one workflow in global order,
// as Query does (Hash.Prev zero): the event whose id is id, if it is its
// own correlation (the workflow's root), and every event appended with
// Correlation id (AppendReaction). It reads only those, from the index's
// list of the workflow.
func (s *Store) ByCorrelation(ctx context.Context, id ID) iter.Seq2[*StoredEvent, error] {
	return func(yield func(*StoredEvent, error) bool) {
		if err := s.readable(ctx); err != nil {
			yield(nil, err)
			return
		}
		s.query(ctx, reader.ListEntries(s.idx.Correlated(id)), reader.QueryOptions{Correlation: id}, yield)
	}
}

// query is reader.Segments.Query with the store's checks and errors.
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
// newest first, along the hash chain, at most limit (0: no bound; below 0:
// ErrInvalidOption). Each is checked first: its hash must be its body's
// over its predecessor's, or the walk yields ErrChainBroken (with a
// *CorruptionError naming the spot).
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
