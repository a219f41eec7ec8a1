package batpak

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/segment"
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

// readEntry reads the event of an index entry, with Hash.Prev filled (if
// its predecessor was dropped by retention the link is not checkable
// here, and Hash.Prev stays zero): one allocation for a common event, the
// predecessor's frame read with the event's (see reader.ReadLinked).
func (s *Store) readEntry(e index.Entry) (*StoredEvent, error) {
	pe, ok := s.idx.Previous(e)
	ev, err := s.segs.ReadLinked(s.idx, e, pe, ok)
	if err != nil && errors.Is(err, reader.ErrEventDropped) {
		// A compaction dropped it after e was looked up.
		return nil, fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return ev, err
}

// fillPrev sets Hash.Prev of ev, the event of entry e, from its entity's
// previous event, reading its frame into scratch if that is large enough.
func (s *Store) fillPrev(e index.Entry, ev *StoredEvent, scratch []byte) error {
	if ev.Position.Sequence == 0 || ev.Hash.Self == ([32]byte{}) {
		return nil
	}
	pe, ok := s.idx.Previous(e)
	if !ok {
		return nil // dropped by retention: the link is not checkable here
	}
	h, err := s.segs.ReadHash(pe, scratch)
	if err != nil && errors.Is(err, reader.ErrEventDropped) {
		return nil // dropped by a compaction since e was taken: as above
	}
	ev.Hash.Prev = h
	return err
}

func (s *Store) readable(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return ctx.Err()
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
		q := queryReader{s: s, ctx: ctx, stream: stream, yield: yield}
		defer q.release()
		sc := s.idx.Scan(r, after)
		q.run(&sc)
	}
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
		entity := ev.Coordinate.Entity()
		for n := 0; limit == 0 || n < limit; n++ {
			if err := s.verifyOwnHash(ev); err != nil {
				yield(nil, err)
				return
			}
			if !yield(ev, nil) || ev.Position.Sequence == 0 {
				return
			}
			if err := s.readable(ctx); err != nil {
				yield(nil, err)
				return
			}
			e, ok := s.idx.StreamEntry(entity, ev.Position.Sequence-1)
			if !ok {
				return // the chain's start was dropped by retention
			}
			if ev, err = s.readEntry(e); err != nil {
				yield(nil, err)
				return
			}
		}
	}
}

// verifyOwnHash checks ev's stored hash against its body and its
// predecessor's hash (ev.Hash.Prev, zero for an entity's first event).
func (s *Store) verifyOwnHash(ev *StoredEvent) error {
	if ev.Hash.Self == ([32]byte{}) || (ev.Position.Sequence > 0 && ev.Hash.Prev == ([32]byte{})) {
		return nil // no chain, or its predecessor is gone: nothing to check against
	}
	e, ok := s.idx.StreamEntry(ev.Coordinate.Entity(), ev.Position.Sequence)
	if !ok {
		return fmt.Errorf("%w: %v vanished from the index", ErrNotFound, ev.ID)
	}
	body, err := s.segs.ReadFrame(e)
	if err != nil {
		return err
	}
	if !segment.VerifyHash(body, ev.Hash.Prev) {
		return fmt.Errorf("%w: %w", ErrChainBroken, &CorruptionError{
			Segment: uint64(e.Segment), Offset: int64(e.Offset), Lost: int64(e.Size),
			Cause: fmt.Errorf("event %v does not hash over its predecessor", ev.ID)})
	}
	return nil
}
