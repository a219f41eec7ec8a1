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
	if ev.Sequence == 0 || ev.Hash.Self == ([32]byte{}) {
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
		q := query{s: s, ctx: ctx, yield: yield, stream: stream}
		q.run(entrySource{scan: s.idx.Scan(r, after)})
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
			if !yield(ev, nil) || ev.Sequence == 0 {
				return
			}
			if err := s.readable(ctx); err != nil {
				yield(nil, err)
				return
			}
			e, ok := s.idx.StreamEntry(entity, ev.Sequence-1)
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
	if ev.Hash.Self == ([32]byte{}) || (ev.Sequence > 0 && ev.Hash.Prev == ([32]byte{})) {
		return nil // no chain, or its predecessor is gone: nothing to check against
	}
	e, ok := s.idx.StreamEntry(ev.Coordinate.Entity(), ev.Sequence)
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

// A query reads its entries a block at a time: a block starts small, so a
// caller that stops after a few events has not paid for many, and doubles
// up to blockMax. The events of a block are read through a
// reader.RunReader (which bounds the bytes read at once and the memory
// its events share).
const (
	blockFirst = 8
	blockMax   = 128
)

// query yields the events of one query.
type query struct {
	s      *Store
	ctx    context.Context
	yield  func(*StoredEvent, error) bool
	stream bool // a single entity's events, in sequence order: fill Hash.Prev
	// correlation, if not zero, keeps only the events of that workflow
	// (the index's candidates include the event with that id, which may
	// belong to another workflow).
	correlation ID
	// In an entity stream the previous hash is usually the one just read.
	prev    [32]byte
	prevSeq uint64
}

// run reads the entries src hands out, block by block, until they end or
// the caller or an error stops it. Events compaction dropped after the
// entries were taken are skipped, as a query started after it would.
func (q *query) run(src entrySource) {
	rr := q.s.segs.Runs(q.s.idx)
	defer rr.Release()
	var es [blockMax]index.Entry
	var evs [blockMax]*StoredEvent
	for limit := blockFirst; ; limit = min(2*limit, blockMax) {
		n := src.next(es[:limit])
		if n == 0 {
			return
		}
		if err := q.s.readable(q.ctx); err != nil {
			q.yield(nil, err)
			return
		}
		read, err := rr.Fill(es[:n], evs[:n])
		for i, ev := range evs[:read] {
			if ev == nil || (!q.correlation.IsZero() && ev.Correlation != q.correlation) {
				continue
			}
			if i > 0 {
				if err := q.s.readable(q.ctx); err != nil {
					q.yield(nil, err)
					return
				}
			}
			var linkErr error
			if q.stream {
				linkErr = q.link(es[i], ev)
			}
			if !q.yield(ev, linkErr) || linkErr != nil {
				return
			}
		}
		if err != nil {
			q.yield(nil, q.s.readErr(err))
			return
		}
	}
}

// link sets Hash.Prev of an entity stream's event: the hash of the event
// yielded just before when that is its predecessor, else read.
func (q *query) link(e index.Entry, ev *StoredEvent) error {
	var err error
	if ev.Sequence > 0 && ev.Sequence == q.prevSeq+1 && q.prev != ([32]byte{}) {
		ev.Hash.Prev = q.prev
	} else {
		err = q.s.fillPrev(e, ev, nil)
	}
	q.prev, q.prevSeq = ev.Hash.Self, ev.Sequence
	return err
}

// readErr is the error of a read that failed: ErrClosed if the store
// closed under it (its segments are closed too), else err.
func (s *Store) readErr(err error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return err
}

// entrySource hands out a query's entries a block at a time: those of an
// index scan, or of a list taken from the index.
type entrySource struct {
	scan   index.Scan
	list   []index.Entry
	listed bool // list, not scan
}

// next copies the next entries into dst and returns how many; 0 means
// there are no more.
func (src *entrySource) next(dst []index.Entry) int {
	if !src.listed {
		return src.scan.Next(dst)
	}
	n := copy(dst, src.list)
	src.list = src.list[n:]
	return n
}
