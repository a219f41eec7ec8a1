package reader

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/segment"
)

// readEntry reads the bytes of the frame an entry points at into buf (of
// length e.Size). An entry taken before a compaction may name a segment
// since retired: the event is then looked up again in the index, by its
// entity and sequence, and read where compaction moved it (byte for byte
// the same frame), or ErrEventDropped says compaction dropped it.
func (s *Segments) readEntry(e index.Entry, buf []byte) error {
	err := s.ReadAt(uint64(e.Segment), buf, int64(e.Offset))
	if err == nil {
		return nil
	}
	// Each round that finds its segment retired has seen a compaction
	// since the previous one: a bound only against a pathological loop.
	for range 8 {
		if errors.Is(err, ErrSegmentRetired) {
			if e, err = s.relocate(e); err != nil {
				return err
			}
			if err = s.ReadAt(uint64(e.Segment), buf, int64(e.Offset)); err == nil {
				return nil
			}
			continue
		}
		if errors.Is(err, io.EOF) {
			// The index points past the file's end: the segment was cut short.
			return corruptAt(e, fmt.Errorf("%w: frame past the end of the segment", segment.ErrTorn))
		}
		return err
	}
	return fmt.Errorf("batpak: event %d moved by compaction repeatedly while being read", e.Global)
}

// relocate returns the current index entry of the event old (an entry of
// a retired segment) points at: compaction keeps an event's entity,
// sequence, global and frame, and changes only where the frame is.
func (s *Segments) relocate(old index.Entry) (index.Entry, error) {
	s.mu.RLock()
	x := s.index
	s.mu.RUnlock()
	if x == nil {
		return old, fmt.Errorf("%w: %016x", ErrSegmentMissing, old.Segment)
	}
	e, ok := x.StreamEntry(x.EntityName(old.Entity), old.Sequence)
	if !ok || e.Global != old.Global {
		return old, fmt.Errorf("%w: event %d", ErrEventDropped, old.Global)
	}
	if e.Size != old.Size {
		return old, corruptAt(e, fmt.Errorf("%w: compaction moved event %d into a frame of another size", segment.ErrBadRecord, e.Global))
	}
	return e, nil
}

// ReadFrame reads and checks the frame an entry points at and returns its body.
func (s *Segments) ReadFrame(e index.Entry) ([]byte, error) {
	buf := make([]byte, e.Size)
	if err := s.readEntry(e, buf); err != nil {
		return nil, err
	}
	body, _, err := segment.ReadFrame(buf)
	if err != nil {
		return nil, corruptAt(e, err)
	}
	return body, nil
}

func corruptAt(e index.Entry, cause error) error {
	return &event.CorruptionError{Segment: uint64(e.Segment), Offset: int64(e.Offset), Lost: int64(e.Size), Cause: cause}
}

// Read returns the event an entry points at. Its coordinate comes from the
// index's interned names and its payload aliases the one buffer read, so a
// read costs two allocations.
func (s *Segments) Read(x *index.Index, e index.Entry) (*event.StoredEvent, error) {
	ev := new(event.StoredEvent)
	if err := s.ReadInto(x, e, ev, make([]byte, e.Size)); err != nil {
		return nil, err
	}
	return ev, nil
}

// ReadInto reads the event an entry points at into ev, using frame (of
// length e.Size) for its bytes, so a caller reading many events can take
// both from blocks it allocates once. ev's payload aliases frame.
func (s *Segments) ReadInto(x *index.Index, e index.Entry, ev *event.StoredEvent, frame []byte) error {
	if err := s.readEntry(e, frame); err != nil {
		return err
	}
	if err := s.decodeFrame(frame, x, e, ev); err != nil {
		return corruptAt(e, err)
	}
	return nil
}

// decodeFrame checks the frame an entry points at and decodes it into
// ev, with the coordinate from the index; its payload aliases frame.
// Errors are the cause, for the caller to locate.
func (s *Segments) decodeFrame(frame []byte, x *index.Index, e index.Entry, ev *event.StoredEvent) error {
	body, _, err := segment.ReadFrame(frame)
	if err != nil {
		return err
	}
	return fill(body, &e, ev, x.Coordinate(e), s.opener)
}

// fill decodes an event body read for entry e into ev, with the
// coordinate coord from the index (which holds only validated names, so the
// frame's own are not parsed again), and refuses a frame that is not e's
// event. Every field of ev is set (ev may be reused); the payload aliases
// body. A sealed payload is opened with o, in place (body is the reader's
// copy, never a mapping), or ev says why it cannot be (PayloadErr).
func fill(body []byte, e *index.Entry, ev *event.StoredEvent, coord event.Coordinate, o segment.Opener) error {
	var v segment.EventView
	if err := segment.ParseEventFields(body, &v); err != nil {
		return err
	}
	if v.Global != e.Global || v.Sequence != e.Sequence || v.Kind != e.Kind {
		return mismatch(&v, e)
	}
	// Field by field, not as one struct: the header holds no pointers, so
	// only the last three fields need the garbage collector's write
	// barrier (a whole-struct copy measured slower on W5's streams).
	ev.Header = event.Header{
		ID: v.ID, Correlation: v.Correlation, Causation: v.Causation, Timestamp: v.Timestamp,
		Position: event.Position{WallMS: v.WallMS, Counter: v.Counter}, Sequence: v.Sequence,
		Global: v.Global, Kind: v.Kind, Flags: v.Flags, PayloadSize: uint32(len(v.Payload)),
		Hash: event.HashChain{Self: v.Hash},
	}
	ev.Coordinate = coord
	ev.IdempotencyKey = ""
	if len(v.IdemKey) > 0 {
		ev.IdempotencyKey = string(v.IdemKey)
	}
	ev.Codec = v.Codec
	ev.PayloadVersion = v.PayloadVersion
	ev.Payload, ev.PayloadErr = v.Payload[:len(v.Payload):len(v.Payload)], nil
	if v.Sealed {
		return openCopy(o, v, ev)
	}
	return nil
}

// openCopy is openInto(o, &v, ev, true) with v passed by value: the
// opener is an interface, so what it is handed escapes, and a pointer to
// fill's own view would move that view to the heap on every read.
func openCopy(o segment.Opener, v segment.EventView, ev *event.StoredEvent) error {
	return openInto(o, &v, ev, true)
}

// openInto sets ev's payload to the plaintext of the sealed event v, or
// PayloadErr to why it cannot be read: event.ErrShredded (stripped, or its
// key destroyed), event.ErrSealed (no opener, or one without keys: the
// store was opened without its key). A payload that does not open is damage: the error.
// inPlace decrypts over v's payload bytes, which must be the caller's.
func openInto(o segment.Opener, v *segment.EventView, ev *event.StoredEvent, inPlace bool) error {
	ev.Payload, ev.PayloadErr, ev.PayloadSize = nil, nil, 0
	switch {
	case segment.IsStripped(v):
		ev.PayloadErr = event.ErrShredded
		return nil
	case o == nil:
		ev.PayloadErr = event.ErrSealed
		return nil
	}
	p, err := o.Open(v, inPlace)
	switch {
	case errors.Is(err, event.ErrShredded):
		ev.PayloadErr = event.ErrShredded
		return nil
	case errors.Is(err, event.ErrSealed):
		ev.PayloadErr = event.ErrSealed
		return nil
	case err != nil:
		return err
	}
	ev.Payload, ev.PayloadSize = p[:len(p):len(p)], uint32(len(p))
	return nil
}

// OpenSealed gives ev, filled from the sealed event v by v.ToStored, its
// plaintext (in a new slice) or its PayloadErr, as the read path does; o
// nil leaves ErrSealed. Damage (a payload that does not open) is the error.
// Maintenance reads that parse frames themselves (compaction's rules)
// use it.
func OpenSealed(o segment.Opener, v *segment.EventView, ev *event.StoredEvent) error {
	if !v.Sealed {
		return nil
	}
	return openInto(o, v, ev, false)
}

// mismatch is the error for a valid frame of another event than e's
// (stale, or copied over this one): that is damage too, and a read never
// answers with the wrong event. (Apart from the check, so that the check
// stays inline on the read path.)
func mismatch(v *segment.EventView, e *index.Entry) error {
	return fmt.Errorf("%w: frame holds event %d (sequence %d, kind %v), the index expects %d (sequence %d, kind %v)",
		segment.ErrBadRecord, v.Global, v.Sequence, v.Kind, e.Global, e.Sequence, e.Kind)
}

// decode checks the frame of entry e and decodes it into ev, with the
// coordinate from a names snapshot (where each entity's coordinate was
// built once, when it was interned); its payload aliases frame. Damage is
// a *event.CorruptionError at e.
func decode(frame []byte, e *index.Entry, ev *event.StoredEvent, names *index.Names, o segment.Opener) error {
	body, _, err := segment.ReadFrame(frame)
	if err == nil {
		err = fill(body, e, ev, names.Coordinate(e), o)
	}
	if err != nil {
		return corruptAt(*e, err)
	}
	return nil
}

// ReadHash reads only the chain hash of the event an entry points at. The
// frame is still read whole and CRC-checked, and must hold e's event; its
// coordinate is not parsed (the caller has it from the index). scratch,
// if at least e.Size long, holds the frame; else one is allocated.
func (s *Segments) ReadHash(e index.Entry, scratch []byte) ([32]byte, error) {
	var frame []byte
	if len(scratch) >= int(e.Size) {
		frame = scratch[:e.Size]
	} else {
		frame = make([]byte, e.Size)
	}
	if err := s.readEntry(e, frame); err != nil {
		return [32]byte{}, err
	}
	return hashOf(frame, e)
}

// hashOf checks the frame of entry e and returns its event's chain hash.
func hashOf(frame []byte, e index.Entry) ([32]byte, error) {
	body, _, err := segment.ReadFrame(frame)
	if err != nil {
		return [32]byte{}, corruptAt(e, err)
	}
	var v segment.EventView
	if err := segment.ParseEventFields(body, &v); err != nil {
		return [32]byte{}, corruptAt(e, err)
	}
	if v.Global != e.Global || v.Sequence != e.Sequence || v.Kind != e.Kind {
		return [32]byte{}, corruptAt(e, mismatch(&v, &e))
	}
	return v.Hash, nil
}

// ReadLinked reads the event of entry e and, when it has a chain hash and
// prev is set, the chain hash of pe, its entity's previous event, for
// Hash.Prev. Both frames are copied under one lock, so their cache misses
// overlap, into the one allocation that holds the event (see ReadRoom).
// Each is CRC-checked and must hold its entry's event; pe's is only
// checked when its hash is needed.
func (s *Segments) ReadLinked(x *index.Index, e, pe index.Entry, prev bool) (*event.StoredEvent, error) {
	if !prev || e.Size+pe.Size > eventRoomBytes {
		ev, room, err := s.ReadRoom(x, e)
		if err == nil && prev && needsPrev(ev) {
			ev.Hash.Prev, err = s.ReadHash(pe, room)
			if err != nil && errors.Is(err, ErrEventDropped) {
				err = nil // as with a predecessor dropped before: Prev stays zero
			}
		}
		if err != nil {
			return nil, err
		}
		return ev, nil
	}
	r := new(eventRoom)
	pair := [2]index.Entry{e, pe}
	frames := r.room[: e.Size+pe.Size : e.Size+pe.Size]
	switch s.copyBlock(pair[:], frames) {
	case 0:
		if err := s.readEntry(e, frames[:e.Size]); err != nil {
			return nil, err
		}
		fallthrough
	case 1:
		if err := s.readEntry(pe, frames[e.Size:]); err != nil {
			if !errors.Is(err, ErrEventDropped) {
				return nil, err
			}
			prev = false // as with a predecessor dropped before: Prev stays zero
		}
	}
	// The payload is cut to its length and capacity, so appending to it
	// never writes over the predecessor's frame.
	if err := s.decodeFrame(frames[:e.Size:e.Size], x, e, &r.ev); err != nil {
		return nil, corruptAt(e, err)
	}
	if prev && needsPrev(&r.ev) {
		h, err := hashOf(frames[e.Size:], pe)
		if err != nil {
			return nil, err
		}
		r.ev.Hash.Prev = h
	}
	return &r.ev, nil
}

// needsPrev reports whether ev links to a predecessor: it has a chain
// hash and is not its entity's first event.
func needsPrev(ev *event.StoredEvent) bool {
	return ev.Sequence > 0 && ev.Hash.Self != ([32]byte{})
}

// eventRoom is an event and room for its frame in one allocation; what
// the frame leaves free is scratch space for the caller (a Get reads its
// predecessor's hash there), so reading one event allocates once.
type eventRoom struct {
	ev   event.StoredEvent
	room [eventRoomBytes]byte
}

const eventRoomBytes = 320

// ReadRoom is Read with the event and its frame in one allocation,
// returning the room the frame leaves free (nil for a frame too large for
// the room, which is read as Read does).
func (s *Segments) ReadRoom(x *index.Index, e index.Entry) (*event.StoredEvent, []byte, error) {
	if e.Size > eventRoomBytes {
		ev, err := s.Read(x, e)
		return ev, nil, err
	}
	r := new(eventRoom)
	// The payload is cut to its length and capacity, so appending to it
	// never writes into the spare room.
	if err := s.ReadInto(x, e, &r.ev, r.room[:e.Size:e.Size]); err != nil {
		return nil, nil, err
	}
	return &r.ev, r.room[e.Size:], nil
}

// copyBlock copies the frames of a prefix of entries from the mappings into
// frames, one after the other, under one read lock. It stops at the first
// frame no mapping covers (or of a segment no longer open: retired or
// evicted) and returns how many it copied; the caller reads the rest with
// readEntry.
func (s *Segments) copyBlock(entries []index.Entry, frames []byte) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var m []byte
	seg, used := ^uint32(0), 0
	for n := range entries {
		e := &entries[n]
		if e.Segment != seg {
			sf := s.files[uint64(e.Segment)]
			if sf == nil {
				return n
			}
			// An evicted segment (see budget.go) has no mapping: its
			// frames are read by the caller's fallback, which reopens it.
			s.lru.touch(sf)
			seg, m = e.Segment, sf.m
		}
		end := int64(e.Offset) + int64(e.Size)
		if end > int64(len(m)) {
			return n
		}
		used += copy(frames[used:used+int(e.Size)], m[e.Offset:end])
	}
	return len(entries)
}

// BeginsBatch reports whether the frame right before the event at e is the
// BEGIN marker of a batch of count events whose first is that event. The
// index does not record batches; the writer asks this to tell whether an
// idempotent batch retry repeats its original batch whole. Compaction keeps
// a batch's BEGIN, events and COMMIT adjacent, so the answer survives it.
func (s *Segments) BeginsBatch(e index.Entry, count int) (bool, error) {
	if count < 1 || count > math.MaxUint32 {
		return false, nil
	}
	want := segment.AppendMarker(nil, segment.TypeBatchBegin, segment.Marker{Count: uint32(count), FirstGlobal: e.Global})
	got := make([]byte, len(want))
	for range 8 {
		at := int64(e.Offset) - int64(len(want))
		if at < segment.HeaderSize {
			return false, nil
		}
		err := s.ReadAt(uint64(e.Segment), got, at)
		if errors.Is(err, ErrSegmentRetired) {
			if e, err = s.relocate(e); err != nil {
				return false, err
			}
			continue
		}
		if err != nil {
			return false, err
		}
		return bytes.Equal(got, want), nil
	}
	return false, fmt.Errorf("batpak: event %d moved by compaction repeatedly while being read", e.Global)
}
