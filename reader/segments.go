package reader

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// ErrSegmentMissing is returned when an index entry names a segment that is
// not open (which means the store is closed or the index is wrong).
var ErrSegmentMissing = errors.New("batpak: segment not open")

// Segments is the set of open segment files, shared by the readers and the
// writer (which adds each segment it creates).
type Segments struct {
	mu    sync.RWMutex
	files map[uint64]vfs.File // guarded by mu
}

// NewSegments returns an empty set.
func NewSegments() *Segments { return &Segments{files: make(map[uint64]vfs.File)} }

// Add registers an open segment file.
func (s *Segments) Add(id uint64, f vfs.File) {
	s.mu.Lock()
	s.files[id] = f
	s.mu.Unlock()
}

func (s *Segments) file(id uint64) (vfs.File, error) {
	s.mu.RLock()
	f := s.files[id]
	s.mu.RUnlock()
	if f == nil {
		return nil, fmt.Errorf("%w: %016x", ErrSegmentMissing, id)
	}
	return f, nil
}

// Count is the number of open segments.
func (s *Segments) Count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.files)
}

// Close closes every segment file.
func (s *Segments) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for id, f := range s.files {
		errs = append(errs, f.Close())
		delete(s.files, id)
	}
	return errors.Join(errs...)
}

// ReadFrame reads and checks the frame an entry points at and returns its body.
func (s *Segments) ReadFrame(e index.Entry) ([]byte, error) {
	f, err := s.file(uint64(e.Segment))
	if err != nil {
		return nil, err
	}
	buf := make([]byte, e.Size)
	if _, err := f.ReadAt(buf, int64(e.Offset)); err != nil {
		if errors.Is(err, io.EOF) {
			// The index points past the file's end: the segment was cut short.
			return nil, corruptAt(e, fmt.Errorf("%w: frame past the end of the segment", segment.ErrTorn))
		}
		return nil, fmt.Errorf("batpak: reading segment %016x at %d: %w", e.Segment, e.Offset, err)
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

// Read returns the event an entry points at. Its coordinate strings come
// from the index's interned names and its payload aliases the one buffer
// read, so a read costs two allocations.
func (s *Segments) Read(x *index.Index, e index.Entry) (*event.StoredEvent, error) {
	body, err := s.ReadFrame(e)
	if err != nil {
		return nil, err
	}
	ev := new(event.StoredEvent)
	if err := decodeInto(body, x, e, ev); err != nil {
		return nil, corruptAt(e, err)
	}
	return ev, nil
}

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
