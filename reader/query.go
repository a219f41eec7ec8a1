package reader

import (
	"errors"
	"fmt"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/segment"
)

// The reads behind the store's Get, queries and chain walks, on the
// caller's goroutine. The facade adds its checks (closed store, the
// caller's context: the live function each takes) and maps errors to its
// own (ErrEventDropped to its ErrNotFound, a read of a closed store to its
// ErrClosed).

// A query reads its entries a block at a time: a block starts small, so a
// caller that stops after a few events has not paid for many, and doubles
// up to blockMax. The events of a block are read through a RunReader
// (which bounds the bytes read at once and the memory its events share).
const (
	blockFirst = 8
	blockMax   = 128
)

// ReadEvent reads the event of entry e with Hash.Prev filled from its
// entity's previous event (left zero if retention dropped that one): one
// allocation for a common event, the predecessor's frame read with the
// event's (see ReadLinked). ErrEventDropped says a compaction dropped the
// event after e was taken.
func (s *Segments) ReadEvent(x *index.Index, e index.Entry) (*event.StoredEvent, error) {
	pe, ok := x.Previous(e)
	return s.ReadLinked(x, e, pe, ok)
}

// Entries hands out a query's index entries a block at a time: those of
// an index scan, or of a list taken from the index.
type Entries struct {
	scan   index.Scan
	list   []index.Entry
	listed bool // list, not scan
}

// ScanEntries hands out the entries of an index scan.
func ScanEntries(sc index.Scan) Entries { return Entries{scan: sc} }

// ListEntries hands out es.
func ListEntries(es []index.Entry) Entries { return Entries{list: es, listed: true} }

// next copies the next entries into dst and returns how many; 0 means
// there are no more.
func (src *Entries) next(dst []index.Entry) int {
	if !src.listed {
		return src.scan.Next(dst)
	}
	n := copy(dst, src.list)
	src.list = src.list[n:]
	return n
}

// QueryOptions shape a Query.
type QueryOptions struct {
	// Stream says the entries are one entity's, in sequence order: each
	// event's Hash.Prev is filled.
	Stream bool
	// Correlation, if not zero, keeps only the events of that workflow
	// (the index's candidates include the event with that id, which may
	// belong to another workflow).
	Correlation event.ID
	// Live is called before each block and before each event after a
	// block's first; an error it returns is yielded and ends the query
	// (the store closed, the caller's context ended). nil: never.
	Live func() error
}

// Query yields the events of src's entries in order, block by block,
// until they end or yield or an error stops it; the error is yielded.
// Events compaction dropped after the entries were taken are skipped, as
// a query started after it would. The events are the caller's to keep
// (see RunReader.Fill).
func (s *Segments) Query(x *index.Index, src Entries, o QueryOptions, yield func(*event.StoredEvent, error) bool) {
	if o.Live == nil {
		o.Live = func() error { return nil }
	}
	q := query{s: s, x: x, o: o, yield: yield}
	q.run(&src)
}

// query is the state of one Query.
type query struct {
	s     *Segments
	x     *index.Index
	o     QueryOptions
	yield func(*event.StoredEvent, error) bool
	// In an entity stream the previous hash is usually the one just read.
	prev    [32]byte
	prevSeq uint64
}

func (q *query) run(src *Entries) {
	rr := q.s.Runs(q.x)
	defer rr.Release()
	var es [blockMax]index.Entry
	var evs [blockMax]*event.StoredEvent
	for limit := blockFirst; ; limit = min(2*limit, blockMax) {
		n := src.next(es[:limit])
		if n == 0 {
			return
		}
		if err := q.o.Live(); err != nil {
			q.yield(nil, err)
			return
		}
		read, err := rr.Fill(es[:n], evs[:n])
		for i, ev := range evs[:read] {
			if ev == nil || (!q.o.Correlation.IsZero() && ev.Correlation != q.o.Correlation) {
				continue
			}
			if i > 0 {
				if err := q.o.Live(); err != nil {
					q.yield(nil, err)
					return
				}
			}
			var linkErr error
			if q.o.Stream {
				linkErr = q.link(es[i], ev)
			}
			if !q.yield(ev, linkErr) || linkErr != nil {
				return
			}
		}
		if err != nil {
			q.yield(nil, err)
			return
		}
	}
}

// link sets Hash.Prev of an entity stream's event: the hash of the event
// yielded just before when that is its predecessor, else read.
func (q *query) link(e index.Entry, ev *event.StoredEvent) error {
	var err error
	if ev.Sequence > 0 && ev.Sequence == q.prevSeq+1 && q.prev != ([32]byte{}) {
		ev.Hash.Prev = q.prev
	} else {
		err = q.s.fillPrev(q.x, e, ev)
	}
	q.prev, q.prevSeq = ev.Hash.Self, ev.Sequence
	return err
}

// fillPrev sets Hash.Prev of ev, the event of entry e, from its entity's
// previous event.
func (s *Segments) fillPrev(x *index.Index, e index.Entry, ev *event.StoredEvent) error {
	if ev.Sequence == 0 || ev.Hash.Self == ([32]byte{}) {
		return nil
	}
	pe, ok := x.Previous(e)
	if !ok {
		return nil // dropped by retention: the link is not checkable here
	}
	h, err := s.ReadHash(pe, nil)
	if err != nil && errors.Is(err, ErrEventDropped) {
		return nil // dropped by a compaction since e was taken: as above
	}
	ev.Hash.Prev = h
	return err
}

// Ancestors yields ev and then its entity's earlier events, newest first,
// following the hash chain, at most limit of them (0: no bound). Each
// event is checked before it is yielded: its own hash must be the hash of
// its body over its predecessor's hash; if not, it yields ErrChainBroken
// (with a *event.CorruptionError naming the spot) instead. The walk ends
// at the entity's first event, or where retention dropped the chain's
// start. live is called before each read (nil: never).
func (s *Segments) Ancestors(x *index.Index, ev *event.StoredEvent, limit int, live func() error, yield func(*event.StoredEvent, error) bool) {
	entity := ev.Coordinate.Entity()
	for n := 0; limit == 0 || n < limit; n++ {
		if err := s.verifyOwnHash(x, ev); err != nil {
			yield(nil, err)
			return
		}
		if !yield(ev, nil) || ev.Sequence == 0 {
			return
		}
		if live != nil {
			if err := live(); err != nil {
				yield(nil, err)
				return
			}
		}
		e, ok := x.StreamEntry(entity, ev.Sequence-1)
		if !ok {
			return // the chain's start was dropped by retention
		}
		var err error
		if ev, err = s.ReadEvent(x, e); err != nil {
			yield(nil, err)
			return
		}
	}
}

// verifyOwnHash checks ev's stored hash against its body and its
// predecessor's hash (ev.Hash.Prev, zero for an entity's first event).
func (s *Segments) verifyOwnHash(x *index.Index, ev *event.StoredEvent) error {
	if ev.Hash.Self == ([32]byte{}) || (ev.Sequence > 0 && ev.Hash.Prev == ([32]byte{})) {
		return nil // no chain, or its predecessor is gone: nothing to check against
	}
	e, ok := x.StreamEntry(ev.Coordinate.Entity(), ev.Sequence)
	if !ok {
		return fmt.Errorf("%w: %v vanished from the index", ErrEventDropped, ev.ID)
	}
	body, err := s.ReadFrame(e)
	if err != nil {
		return err
	}
	if !segment.VerifyHash(body, ev.Hash.Prev) {
		return fmt.Errorf("%w: %w", ErrChainBroken, &event.CorruptionError{
			Segment: uint64(e.Segment), Offset: int64(e.Offset), Lost: int64(e.Size),
			Cause: fmt.Errorf("event %v does not hash over its predecessor", ev.ID)})
	}
	return nil
}
