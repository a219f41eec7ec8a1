package segment

import (
	"encoding/binary"
	"fmt"

	"github.com/batpak-go/batpak/event"
)

// Visit receives each committed event of a scan: its frame's offset in the
// segment, the frame's size, and the parsed body (valid only during the call).
// batch is true for events of an atomic batch.
type Visit func(offset int64, size int, v *EventView, batch bool) error

// ScanResult says how a scan of one segment's bytes ended.
type ScanResult struct {
	// End is the offset just past the last whole committed record; bytes
	// from End on are not part of the log.
	End int64
	// Torn is true when the bytes from End on are a torn tail: a record cut
	// short, garbage with no valid frame after it, or a batch without its
	// COMMIT. False when the segment ended cleanly at End.
	Torn bool
	// TornReason describes the tail, for the recovery report.
	TornReason string
	// DiscardedBatch is true when the tail held a batch with no COMMIT.
	DiscardedBatch bool
	// Events counts the events visited.
	Events int
	// LastGlobal is the global sequence of the last event visited (or the
	// value passed in if none) — or, if higher, the last global sequence a
	// compacted segment's record says the replaced segments reached (events
	// dropped by retention still used their numbers).
	LastGlobal uint64
	// Compacted is set when the segment was written by compaction: its
	// first record says what it replaced.
	Compacted *CompactedRecord
	// FooterAt is the offset of the segment's footer (see footer.go), 0
	// if it has none. End stays before it.
	FooterAt int64
}

// maxResyncWork bounds the bytes checksummed while looking for a valid frame
// after a bad one; past it the damage is reported as corruption rather than
// guessed to be a torn tail.
const maxResyncWork = 256 << 20

// Scan walks the frames of one segment's bytes from offset start (normally
// HeaderSize), calling visit for each committed event. Events outside a batch
// are visited at once; a batch's events are visited only when its COMMIT has
// been read. lastGlobal is the global sequence of the last event before this
// segment: each event must exceed its predecessor, which catches stale and
// misdirected frames.
//
// syncedTo says how far the bytes are known to have been synced (see
// SyncNoteOffset), or is negative if that is unknown. A bad record before
// syncedTo is corruption, returned as a *event.CorruptionError: those bytes were
// acknowledged. A bad record at or past it is a torn tail (Torn set, no
// error) — or the clean end of the log if every byte from it is zero. When
// syncedTo is unknown, a bad record followed by a valid frame is
// corruption, and one followed by none a torn tail. Errors from visit are
// returned as they are.
func Scan(data []byte, segID uint64, start int64, lastGlobal uint64, syncedTo int64, visit Visit) (ScanResult, error) {
	s := scanner{data: data, visit: visit, syncedTo: syncedTo}
	s.res = ScanResult{End: start, LastGlobal: lastGlobal}
	off := start
	for off < int64(len(data)) {
		body, size, err := ReadFrame(data[off:])
		if err == nil {
			err = s.check(body)
		}
		if err == nil && body[0] == TypeCompacted && off != HeaderSize {
			err = fmt.Errorf("%w: compaction record at offset %d, not first in its segment", ErrBadRecord, off)
		}
		if err == nil && s.res.FooterAt > 0 {
			err = fmt.Errorf("%w: a record after the segment's footer", ErrBadRecord)
		}
		if err == nil && body[0] == TypeFooter {
			err = s.checkFooter(data, off, size)
		}
		if err != nil {
			err = s.badRecord(segID, off, err)
			s.finish()
			return s.res, err
		}
		if err := s.apply(off, size, body); err != nil {
			return s.res, err
		}
		off += int64(size)
	}
	if s.inBatch {
		s.res.Torn, s.res.DiscardedBatch = true, true
		s.res.TornReason = fmt.Sprintf("batch begun at offset %d has no COMMIT", s.batchStart)
	}
	s.finish()
	return s.res, nil
}

// finish raises LastGlobal to a compacted segment's recorded end, which
// may lie past its last kept event.
func (s *scanner) finish() {
	if c := s.res.Compacted; c != nil && c.LastGlobal > s.res.LastGlobal {
		s.res.LastGlobal = c.LastGlobal
	}
}

type pendingEvent struct {
	off  int64
	size int
	body []byte
}

// scanner is the state of one Scan: the result so far and an open batch.
type scanner struct {
	data       []byte
	visit      Visit
	res        ScanResult
	view       EventView
	inBatch    bool
	marker     Marker
	batchStart int64
	batch      []pendingEvent
	lastSeen   uint64 // global of the last event read, committed or not
	syncedTo   int64  // bytes before this were synced; < 0: unknown
}

// check validates a frame body against the scan so far, leaving an event's
// fields in s.view.
func (s *scanner) check(body []byte) error {
	last := max(s.res.LastGlobal, s.lastSeen)
	switch body[0] {
	case TypeEvent:
		if err := ParseEvent(body, &s.view); err != nil {
			return err
		}
		if s.view.Global <= last {
			return fmt.Errorf("%w: global sequence %d does not follow %d (stale or misdirected frame)",
				ErrBadRecord, s.view.Global, last)
		}
		if c := s.res.Compacted; c != nil && s.view.Global > c.LastGlobal {
			return fmt.Errorf("%w: global sequence %d is past the compacted range ending at %d",
				ErrBadRecord, s.view.Global, c.LastGlobal)
		}
		if s.inBatch && len(s.batch) >= int(s.marker.Count) {
			return fmt.Errorf("%w: batch holds more than the %d events its BEGIN announced", ErrBadRecord, s.marker.Count)
		}
		return nil
	case TypeBatchBegin:
		m, err := ParseMarker(body)
		switch {
		case err != nil:
			return err
		case s.inBatch:
			return fmt.Errorf("%w: batch BEGIN inside a batch", ErrBadRecord)
		case m.FirstGlobal <= last:
			return fmt.Errorf("%w: batch starts at global %d, not after %d", ErrBadRecord, m.FirstGlobal, last)
		}
		return nil
	case TypeBatchCommit:
		m, err := ParseMarker(body)
		switch {
		case err != nil:
			return err
		case !s.inBatch || m != s.marker:
			return fmt.Errorf("%w: batch COMMIT does not match its BEGIN", ErrBadRecord)
		case len(s.batch) != int(m.Count):
			return fmt.Errorf("%w: batch COMMIT after %d of %d events", ErrBadRecord, len(s.batch), m.Count)
		}
		return nil
	case TypeFooter:
		return nil // checked by checkFooter
	case TypeCompacted:
		c, err := ParseCompacted(body)
		switch {
		case err != nil:
			return err
		case s.inBatch || s.res.Events > 0 || s.lastSeen > 0:
			return fmt.Errorf("%w: compaction record after events", ErrBadRecord)
		case c.FirstGlobal <= last && c.FirstGlobal != 0:
			return fmt.Errorf("%w: compacted range starts at global %d, not after %d", ErrBadRecord, c.FirstGlobal, last)
		}
		return nil
	}
	return fmt.Errorf("%w: unknown record type %d", ErrBadRecord, body[0])
}

// apply takes a checked record into the scan.
func (s *scanner) apply(off int64, size int, body []byte) error {
	switch body[0] {
	case TypeBatchBegin:
		s.marker, _ = ParseMarker(body)
		s.inBatch, s.batchStart, s.batch = true, off, s.batch[:0]
	case TypeEvent:
		s.lastSeen = s.view.Global
		if s.inBatch {
			s.batch = append(s.batch, pendingEvent{off, size, body})
			return nil
		}
		return s.emit(off, size, false)
	case TypeFooter:
		s.res.FooterAt = off // not part of the log's records: End stays before it
	case TypeCompacted:
		c, _ := ParseCompacted(body)
		s.res.Compacted = &c
		s.res.End = off + int64(size)
		if c.FirstGlobal > 0 {
			s.lastSeen = c.FirstGlobal - 1 // kept events lie inside the range
		}
	case TypeBatchCommit:
		for _, p := range s.batch {
			if err := ParseEvent(p.body, &s.view); err != nil {
				return err // parsed once already in check
			}
			if err := s.emit(p.off, p.size, true); err != nil {
				return err
			}
		}
		s.inBatch, s.batch = false, s.batch[:0]
		s.res.End = off + int64(size)
	}
	return nil
}

func (s *scanner) emit(off int64, size int, batch bool) error {
	if err := s.visit(off, size, &s.view, batch); err != nil {
		return err
	}
	s.res.Events++
	s.res.LastGlobal = s.view.Global
	if !batch {
		s.res.End = off + int64(size)
	}
	return nil
}

// badRecord decides whether the bad record at off starts a torn tail (or
// the clean end of the log) or is corruption.
func (s *scanner) badRecord(segID uint64, off int64, cause error) error {
	known := s.syncedTo >= 0
	if known && off < s.syncedTo {
		return s.corruption(segID, off, cause)
	}
	if allZero(s.data[off:]) {
		// Preallocated space the writer never reached (or a write that never
		// began): the log simply ends here.
		if s.inBatch {
			s.res.Torn, s.res.DiscardedBatch = true, true
			s.res.TornReason = fmt.Sprintf("batch begun at offset %d has no COMMIT", s.batchStart)
		}
		return nil
	}
	if !known {
		// Nothing says how far the bytes were synced: a torn write leaves
		// nothing valid after it, damage in the middle of the log does.
		if _, found, exhausted := nextValidFrame(s.data, off+1); found || exhausted {
			return s.corruption(segID, off, cause)
		}
	}
	s.res.Torn = true
	s.res.DiscardedBatch = s.inBatch
	s.res.TornReason = fmt.Sprintf("%d bytes from offset %d: %v", int64(len(s.data))-s.res.End, off, cause)
	if s.inBatch {
		s.res.TornReason = fmt.Sprintf("batch begun at offset %d cut short: %v", s.batchStart, cause)
	}
	return nil
}

// corruption reports the bad record at off, and how many bytes from it up
// to the next valid frame (or the end) are lost.
func (s *scanner) corruption(segID uint64, off int64, cause error) error {
	next, found, _ := nextValidFrame(s.data, off+1)
	lost := int64(len(s.data)) - off
	if found {
		lost = next - off
	}
	return &event.CorruptionError{Segment: segID, Offset: off, Lost: lost, Cause: cause}
}

// nextValidFrame looks for the first offset at or after from holding a frame
// whose length fits and whose checksum matches. exhausted reports that the
// search gave up after maxResyncWork bytes of checksumming.
func nextValidFrame(data []byte, from int64) (at int64, found, exhausted bool) {
	work := 0
	for p := from; p+FrameHeaderSize < int64(len(data)); p++ {
		n := FrameLength(data[p:])
		if n == 0 || n > MaxBody || p+FrameHeaderSize+int64(n) > int64(len(data)) {
			continue
		}
		work += int(n)
		if work > maxResyncWork {
			return p, false, true
		}
		if body, _, err := ReadFrame(data[p:]); err == nil && body[0] >= TypeEvent && body[0] <= TypeFooter {
			return p, true, false
		}
	}
	return int64(len(data)), false, false
}

func allZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// checkFooter accepts a footer frame outside a batch that decodes and
// agrees with the records before it. Whatever follows it is a bad record
// (see the loop in Scan).
func (s *scanner) checkFooter(data []byte, off int64, size int) error {
	if s.inBatch {
		return fmt.Errorf("%w: footer inside a batch", ErrBadRecord)
	}
	_, err := WalkFooter(data[:off+int64(size)], func(*FooterEntry) error { return nil })
	return err
}
