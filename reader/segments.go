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
// writer (which adds each segment it creates). Where the file system allows,
// each segment is also mapped read-only, and a read is a copy out of the
// page cache rather than a system call.
type Segments struct {
	mu      sync.RWMutex // held shared while copying out of a mapping; Close takes it exclusively
	files   map[uint64]*segFile
	retired [][]byte // mappings replaced by larger ones, released at Close
}

type segFile struct {
	f vfs.File
	m []byte // the file's first len(m) bytes, mapped read-only; nil if not mapped
}

// NewSegments returns an empty set.
func NewSegments() *Segments { return &Segments{files: make(map[uint64]*segFile)} }

// Add registers an open segment file.
func (s *Segments) Add(id uint64, f vfs.File) {
	sf := &segFile{f: f}
	if mf, ok := f.(vfs.ReadMappable); ok {
		sf.m, _ = mf.MapRead() // unmapped, reads use ReadAt
	}
	s.mu.Lock()
	s.files[id] = sf
	s.mu.Unlock()
}

// Count is the number of open segments.
func (s *Segments) Count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.files)
}

// Close releases every mapping and closes every segment file.
func (s *Segments) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for id, sf := range s.files {
		if sf.m != nil {
			errs = append(errs, vfs.UnmapRead(sf.m))
		}
		errs = append(errs, sf.f.Close())
		delete(s.files, id)
	}
	for _, m := range s.retired {
		errs = append(errs, vfs.UnmapRead(m))
	}
	s.retired = nil
	return errors.Join(errs...)
}

// ReadAt reads len(p) bytes at offset off of segment id into p. It lets a
// caller that visits many adjacent frames (a projection replaying an entity
// stream) read them with one call and check each frame itself with
// segment.ReadFrame; Read remains the way to read one event.
func (s *Segments) ReadAt(id uint64, p []byte, off int64) error {
	s.mu.RLock()
	sf := s.files[id]
	if sf != nil && off+int64(len(p)) <= int64(len(sf.m)) {
		copy(p, sf.m[off:])
		s.mu.RUnlock()
		return nil
	}
	s.mu.RUnlock()
	if sf == nil {
		return fmt.Errorf("%w: %016x", ErrSegmentMissing, id)
	}
	if _, err := sf.f.ReadAt(p, off); err != nil {
		return fmt.Errorf("batpak: reading segment %016x at %d: %w", id, off, err)
	}
	s.remap(id, sf)
	return nil
}

// remap maps a segment again if its file has grown past its mapping (the
// active segment, preallocated by the writer after recovery mapped it).
// The old mapping may still be in use by a reader: it is kept until Close.
func (s *Segments) remap(id uint64, sf *segFile) {
	mf, ok := sf.f.(vfs.ReadMappable)
	if !ok {
		return
	}
	size, err := sf.f.Size()
	if err != nil || size <= int64(len(sf.m)) {
		return
	}
	m, err := mf.MapRead()
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.files[id]; cur != sf || len(m) <= len(sf.m) {
		vfs.UnmapRead(m) // closed, or another reader remapped first
		return
	}
	if sf.m != nil {
		s.retired = append(s.retired, sf.m)
	}
	s.files[id] = &segFile{f: sf.f, m: m}
}

// Bytes returns the whole segment for scanning: its mapping when that
// covers the file, else a copy read from it.
func (s *Segments) Bytes(id uint64) ([]byte, error) {
	s.mu.RLock()
	sf := s.files[id]
	s.mu.RUnlock()
	if sf == nil {
		return nil, fmt.Errorf("%w: %016x", ErrSegmentMissing, id)
	}
	if size, err := sf.f.Size(); err == nil && size == int64(len(sf.m)) {
		return sf.m, nil
	}
	return readAll(sf.f)
}

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
