package reader

import (
	"errors"
	"fmt"
	"io"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/segment"
)

// readEntry reads the bytes of the frame an entry points at into buf (of
// length e.Size).
func (s *Segments) readEntry(e index.Entry, buf []byte) error {
	err := s.ReadAt(uint64(e.Segment), buf, int64(e.Offset))
	if errors.Is(err, io.EOF) {
		// The index points past the file's end: the segment was cut short.
		return corruptAt(e, fmt.Errorf("%w: frame past the end of the segment", segment.ErrTorn))
	}
	return err
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
	return &segment.CorruptionError{Segment: uint64(e.Segment), Offset: int64(e.Offset), Lost: int64(e.Size), Cause: cause}
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
	if err := DecodeFrame(frame, x, e, ev); err != nil {
		return corruptAt(e, err)
	}
	return nil
}

// DecodeFrame checks the frame an entry points at (read by the caller, for
// instance with neighbours in one ReadAt) and decodes it into ev; its
// payload aliases frame. Errors are the cause, for the caller to locate.
func DecodeFrame(frame []byte, x *index.Index, e index.Entry, ev *event.StoredEvent) error {
	body, _, err := segment.ReadFrame(frame)
	if err != nil {
		return err
	}
	return decodeInto(body, x, e, ev)
}

// decodeInto decodes an event body read for entry e, taking the
// coordinate from the index, and refuses a frame that is not e's event.
func decodeInto(body []byte, x *index.Index, e index.Entry, ev *event.StoredEvent) error {
	var v segment.EventView
	if err := segment.ParseEventFields(body, &v); err != nil {
		return err
	}
	// A valid frame of another event (stale, or copied over this one) is
	// damage too: never answer with the wrong event.
	if v.Global != e.Global || v.Sequence != e.Sequence {
		return fmt.Errorf("%w: frame holds event %d, the index expects %d", segment.ErrBadRecord, v.Global, e.Global)
	}
	ev.Header = event.Header{
		ID: v.ID, Correlation: v.Correlation, Causation: v.Causation, Timestamp: v.Timestamp,
		Position: event.Position{WallMS: v.WallMS, Counter: v.Counter, Sequence: v.Sequence},
		Global:   v.Global, Kind: v.Kind, Flags: v.Flags, PayloadSize: uint32(len(v.Payload)),
		Hash: event.HashChain{Self: v.Hash},
	}
	ev.Coordinate = x.Coordinate(e) // the index holds only validated names
	if len(v.IdemKey) > 0 {
		ev.IdempotencyKey = string(v.IdemKey)
	}
	ev.Codec = v.Codec
	ev.Payload = v.Payload[:len(v.Payload):len(v.Payload)]
	return nil
}

// ReadHash reads only the chain hash of the event an entry points at.
func (s *Segments) ReadHash(e index.Entry) ([32]byte, error) {
	body, err := s.ReadFrame(e)
	if err != nil {
		return [32]byte{}, err
	}
	var v segment.EventView
	if err := segment.ParseEvent(body, &v); err != nil {
		return [32]byte{}, corruptAt(e, err)
	}
	if v.Global != e.Global {
		return [32]byte{}, corruptAt(e, fmt.Errorf("%w: frame holds event %d, the index expects %d", segment.ErrBadRecord, v.Global, e.Global))
	}
	return v.Hash, nil
}
