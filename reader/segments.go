package reader

import (
	"errors"
	"fmt"
	"sync"

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
