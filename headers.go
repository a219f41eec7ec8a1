package batpak

import (
	"context"
	"fmt"
	"iter"

	"github.com/batpak-go/batpak/event"
)

// IndexHeader is an event's metadata as the index holds it (see
// event.IndexHeader for each field and where it comes from).
type IndexHeader = event.IndexHeader

// headerBlock is how many headers a metadata-only read takes from the
// index at a time; the store's state is checked once a block.
const headerBlock = 64

// QueryHeaders yields the headers of the visible events in region r in
// global order, from a snapshot taken when iteration starts: the same
// events, in the same order, as Query, but only their metadata, read from
// the index in memory — no segment file is touched, no frame read or
// checked, nothing decoded — so it runs at the speed of memory. Use it to
// learn which events there are (and their ids, kinds, positions, links)
// and read with Get only those whose payload matters. The first error
// (ErrClosed, the context's) is yielded last.
func (s *Store) QueryHeaders(ctx context.Context, r Region) iter.Seq2[IndexHeader, error] {
	return s.QueryHeadersAfter(ctx, r, 0)
}

// QueryHeadersAfter is QueryHeaders limited to events with a global
// sequence above after.
func (s *Store) QueryHeadersAfter(ctx context.Context, r Region, after uint64) iter.Seq2[IndexHeader, error] {
	return func(yield func(IndexHeader, error) bool) {
		if err := s.readable(ctx); err != nil {
			yield(IndexHeader{}, err)
			return
		}
		hs := s.idx.ScanHeaders(r, after)
		var buf [headerBlock]IndexHeader
		for {
			n := hs.Next(buf[:])
			if n == 0 {
				return
			}
			for i := range n {
				if !yield(buf[i], nil) {
					return
				}
			}
			if err := s.readable(ctx); err != nil {
				yield(IndexHeader{}, err)
				return
			}
		}
	}
}

// StreamHeaders yields the headers of an entity's events in sequence
// order: Stream without the payloads (see QueryHeaders).
func (s *Store) StreamHeaders(ctx context.Context, entity string) iter.Seq2[IndexHeader, error] {
	return s.QueryHeaders(ctx, event.Region{Entity: entity})
}

// HeaderCursor reads the headers of a region's events in global order a
// block at a time, each call going on after the last header it gave: a
// metadata-only cursor that polls the index (it does not wait for events,
// nor hold anything between calls). Open one with Store.HeaderCursor. Not
// safe for concurrent use.
type HeaderCursor struct {
	s      *Store
	region Region
	after  uint64
}

// HeaderCursor opens a cursor on the headers of region's events with a
// global sequence above after (0: from the first event).
func (s *Store) HeaderCursor(region Region, after uint64) *HeaderCursor {
	return &HeaderCursor{s: s, region: region, after: after}
}

// Next fills dst with the next headers, from a fresh snapshot of the
// index, and returns how many; 0 means none is visible yet past the last
// one given (call again later). It returns ErrClosed once the store is
// closed, and the context's error.
func (c *HeaderCursor) Next(ctx context.Context, dst []IndexHeader) (int, error) {
	if err := c.s.readable(ctx); err != nil {
		return 0, err
	}
	if len(dst) == 0 {
		return 0, fmt.Errorf("%w: HeaderCursor.Next needs room for one header", ErrInvalidOption)
	}
	hs := c.s.idx.ScanHeaders(c.region, c.after)
	n := hs.Next(dst)
	if n > 0 {
		c.after = dst[n-1].Global
	}
	return n, nil
}

// After is the global sequence of the last header the cursor gave (or the
// one it was opened after): where it goes on from.
func (c *HeaderCursor) After() uint64 { return c.after }
