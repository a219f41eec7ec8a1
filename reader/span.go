package reader

import (
	"errors"
	"fmt"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/segment"
)

// Where atomic batches end, for readers that read in capped batches
// (cursors, and the live projections they feed), read from the log itself
// so that it holds for every event whatever built the index (the writer, a
// scan, a footer, a checkpoint) and needs no extra state on disk.
//
// A batch is BEGIN, its events back to back, COMMIT. Within a segment,
// nothing but such markers (and a compacted segment's first record) lies
// between two indexed events, so the index's offsets cut the log into
// runs of back-to-back events, each either one batch or events appended
// alone (index.RunStart). What lies right before a run says which: a BEGIN
// naming the run's first event, and how many events the batch has.
// Compaction copies batches whole and appended-alone events back to back,
// so this holds in compacted segments too.

// maxRunGap bounds the bytes between two indexed events of a segment:
// a compaction record, a COMMIT and a BEGIN take well under it.
const maxRunGap = 1 << 10

// Span is a stretch of the log by global sequence: one atomic batch
// (Atomic), or events each appended alone.
type Span struct {
	First, Last uint64
	Atomic      bool
}

// BatchSpan says how the visible event with global sequence g was
// appended: the Span of its atomic batch, or, for an event appended
// alone, a Span of events appended alone that ends at g. known is the
// caller's previous answer (zero at first), from which it may answer when
// g's run of events appended alone reaches back into it. Cursors keep
// batches whole with it (package subscriber, Log.Batch).
func (s *Segments) BatchSpan(x *index.Index, g uint64, known Span) (Span, error) {
	var floor uint64 // at or below it, g's run is known to be of events appended alone
	if !known.Atomic && known.Last < g {
		floor = known.Last
	}
	// Each round that finds its segment retired has seen a compaction
	// rewrite the index since it walked it.
	for range 8 {
		first, gap, atFloor, ok := x.RunStart(g, floor)
		switch {
		case !ok:
			// Dropped by a compaction since the cursor took it: there is
			// no batch left to keep whole.
			return Span{First: g, Last: g}, nil
		case atFloor:
			return Span{First: known.First, Last: g}, nil
		}
		m, err := s.beginBefore(first, gap)
		if errors.Is(err, ErrSegmentRetired) {
			continue
		}
		if err != nil {
			return Span{}, err
		}
		if m.Count == 0 {
			return Span{First: first.Global, Last: g}, nil
		}
		last := m.FirstGlobal + uint64(m.Count) - 1
		if g > last {
			return Span{}, &event.CorruptionError{Segment: uint64(first.Segment), Offset: int64(first.Offset),
				Cause: fmt.Errorf("event %d follows, back to back, a batch of %d events from %d", g, m.Count, m.FirstGlobal)}
		}
		return Span{First: m.FirstGlobal, Last: last, Atomic: true}, nil
	}
	return Span{}, fmt.Errorf("batpak: event %d moved by compaction repeatedly while being read", g)
}

// beginBefore returns the BEGIN marker right before the run that starts
// with first (from gap on, 0 meaning the segment's start), or a zero
// Marker if the run is of events appended alone.
func (s *Segments) beginBefore(first index.Entry, gap uint32) (segment.Marker, error) {
	start := int64(gap)
	if gap == 0 {
		start = segment.HeaderSize
	}
	n := int64(first.Offset) - start
	corrupt := func(cause error) error {
		return &event.CorruptionError{Segment: uint64(first.Segment), Offset: start, Lost: max(n, 0), Cause: cause}
	}
	switch {
	case n == 0:
		return segment.Marker{}, nil // the segment's first record: no BEGIN
	case n < 0 || n > maxRunGap:
		return segment.Marker{}, corrupt(fmt.Errorf("%d bytes between event %d and the record before it", n, first.Global))
	}
	buf := make([]byte, n)
	if err := s.ReadAt(uint64(first.Segment), buf, start); err != nil {
		return segment.Marker{}, err
	}
	var body []byte
	for off := 0; off < len(buf); {
		b, size, err := segment.ReadFrame(buf[off:])
		if err != nil {
			return segment.Marker{}, corrupt(fmt.Errorf("the records before event %d: %w", first.Global, err))
		}
		body, off = b, off+size
	}
	if body[0] != segment.TypeBatchBegin {
		return segment.Marker{}, nil // a COMMIT or a compaction record: the run starts alone
	}
	m, err := segment.ParseMarker(body)
	if err == nil && m.FirstGlobal != first.Global {
		err = fmt.Errorf("the BEGIN before event %d names event %d", first.Global, m.FirstGlobal)
	}
	if err != nil {
		return segment.Marker{}, corrupt(err)
	}
	return m, nil
}
