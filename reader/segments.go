package reader

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// ErrSegmentMissing is returned when an index entry names a segment that is
// not open (which means the store is closed or the index is wrong).
var ErrSegmentMissing = errors.New("batpak: segment not open")

// ErrSegmentRetired is returned when an index entry names a segment that
// compaction replaced and that has since been closed: the entry was taken
// before the index was rewritten. The read functions of this package
// handle it themselves, finding the event where compaction moved it (see
// readEntry and RunReader); only ReadAt, which reads bytes rather than
// events, returns it.
var ErrSegmentRetired = errors.New("batpak: segment replaced by compaction")

// ErrEventDropped is returned when an event read through an index entry
// taken before a compaction was dropped by that compaction (its Retain
// rejected it): the event is no longer in the log, as if the read came
// after the compaction.
var ErrEventDropped = errors.New("batpak: event dropped by compaction")

// Segments is the set of open segment files, shared by the readers and the
// writer (which adds each segment it creates). Where the file system allows,
// each segment is also mapped read-only, and a read is a copy out of the
// page cache rather than a system call.
//
// A segment is known in memory (index.Entry.Segment) by its file id,
// except one written by compaction while the store is open: it gets a
// fresh id from FirstCompactedID up, so that an entry still naming a
// segment it replaced (held by a reader that took it before the index was
// rewritten) is never mistaken for one of the new file.
//
// A replaced segment is closed and unmapped as soon as compaction retires
// it (Retire), or when the last View pinning it is released. That is safe
// without reference counts on the read path because every read copies out
// of a mapping or file under mu held shared, and closing takes mu
// exclusively. A reader that reads through an entry of a retired segment
// afterwards finds the event again through the index by its entity and
// sequence (which compaction never changes), or learns that the event was
// dropped (ErrEventDropped).
//
// With a budget (SetBudget), at most that many segments are kept open and
// mapped besides the pinned ones (the active segment, segments the writer
// may still sync, and segments replaced by compaction, whose files are
// gone, until released); the least recently used are closed and reopened
// on demand.
type Segments struct {
	// mu is held shared while reading a segment's mapping or file, and
	// exclusively to add, remap, evict, reopen or close one: an eviction
	// never pulls a mapping or file from under a reader.
	mu       sync.RWMutex
	files    map[uint64]*segFile // guarded by mu
	retired  [][]byte            // guarded by mu: mappings replaced by larger ones, released at Close
	nextComp uint32              // guarded by mu: the next in-memory id for a compaction output
	lru      budget              // guarded by mu, except its atomic counters
	// retiredIDs are the in-memory ids of the segments compaction replaced
	// (guarded by mu): a read of one that is closed is told so, rather than
	// that the segment is missing. Ids are never reused, and a set holds a
	// few per compaction, so it is kept until Close.
	retiredIDs map[uint64]struct{}
	// index (guarded by mu; set by Retire) finds where compaction moved an
	// event read through an entry of a retired segment.
	index *index.Index
	// opener opens sealed payloads (nil: they read as event.ErrSealed). Set
	// by SetOpener before the segments are read from, then never changed.
	opener segment.Opener
}

// SetOpener makes every read open sealed payloads with o (the store's
// keyring). Call it before anything reads from s.
func (s *Segments) SetOpener(o segment.Opener) { s.opener = o }

type segFile struct {
	// f and m are guarded by Segments.mu (read under the read lock,
	// changed under the write lock); f is nil while evicted.
	f    vfs.File
	m    []byte        // the file's first len(m) bytes, mapped read-only; nil if not mapped
	file uint64        // the segment's file id
	gone bool          // replaced by compaction: no longer in the log, open only while pinned
	used atomic.Uint64 // the budget's epoch when last read (see budget)
	refs atomic.Int32  // Views holding the mapping: never evicted or released meanwhile
	size int64         // the file's size when evicted
	// created is the header's creation time when first opened: a reopen
	// checks it, so a file since replaced (by a compaction in another
	// process, for a read-only store) is refused rather than misread.
	created int64
}

// FirstCompactedID is the first in-memory id given to a segment written by
// compaction while the store is open; segment file ids stay below it
// (segment.MaxID).
const FirstCompactedID = segment.MaxID + 1

// NewSegments returns an empty set.
func NewSegments() *Segments {
	return &Segments{files: make(map[uint64]*segFile), nextComp: FirstCompactedID, retiredIDs: make(map[uint64]struct{})}
}

// Add registers an open segment file under its file id.
func (s *Segments) Add(id uint64, f vfs.File) {
	sf := newSegFile(id, f)
	s.mu.Lock()
	s.files[id] = sf
	s.evictLocked()
	s.mu.Unlock()
}

func newSegFile(fileID uint64, f vfs.File) *segFile {
	sf := &segFile{f: f, file: fileID}
	sf.attach(f)
	sf.created = headerCreated(f)
	return sf
}

// headerCreated reads a segment file's creation time (0 if unreadable).
func headerCreated(f vfs.File) int64 {
	var b [segment.HeaderSize]byte
	if _, err := f.ReadAt(b[:], 0); err != nil {
		return 0
	}
	h, err := segment.DecodeHeader(b[:])
	if err != nil {
		return 0
	}
	return h.Created
}

// attach makes f the segment's open file, mapping it where the file
// system allows (unmapped, reads use ReadAt).
func (sf *segFile) attach(f vfs.File) {
	sf.f, sf.m = f, nil
	if mf, ok := f.(vfs.ReadMappable); ok {
		sf.m, _ = mf.MapRead()
	}
}

// AddCompacted registers a segment file written by compaction (file id
// fileID) and returns the in-memory id entries must use for it.
func (s *Segments) AddCompacted(fileID uint64, f vfs.File) uint32 {
	sf := newSegFile(fileID, f)
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextComp
	s.nextComp++
	s.files[uint64(id)] = sf
	s.evictLocked()
	return id
}

// Retire takes segments replaced by compaction out of the log, once x (the
// store's index) no longer names them. Each is closed and unmapped now, or,
// if a View pins it, when the last such View is released. A reader still
// holding an entry that names one finds its event again through x (see
// readEntry).
func (s *Segments) Retire(ids []uint32, x *index.Index) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.index = x
	for _, id := range ids {
		sf := s.files[uint64(id)]
		if sf == nil {
			continue
		}
		s.retiredIDs[uint64(id)] = struct{}{}
		sf.gone = true
		if sf.refs.Load() == 0 {
			s.releaseLocked(uint64(id), sf)
		}
	}
}

// releaseLocked closes and forgets a retired segment. Its file is already
// removed, so a failure to close it loses nothing and is not reported.
// The caller holds s.mu exclusively: no reader is inside the mapping.
func (s *Segments) releaseLocked(id uint64, sf *segFile) {
	if sf.m != nil {
		_ = vfs.UnmapRead(sf.m)
	}
	if sf.f != nil {
		_ = sf.f.Close()
	}
	sf.f, sf.m = nil, nil
	delete(s.files, id)
}

// unpin drops one View's pin of sf, releasing the segment if it was
// retired meanwhile and this was the last pin.
func (s *Segments) unpin(id uint64, sf *segFile) {
	if sf.refs.Add(-1) != 0 {
		return
	}
	s.mu.Lock()
	if sf.gone && sf.refs.Load() == 0 && s.files[id] == sf {
		s.releaseLocked(id, sf)
	}
	s.mu.Unlock()
}

// missingLocked is the error for a read of segment id, which is not in the
// set. The caller holds s.mu.
func (s *Segments) missingLocked(id uint64) error {
	if _, ok := s.retiredIDs[id]; ok {
		return fmt.Errorf("%w: %016x", ErrSegmentRetired, id)
	}
	return fmt.Errorf("%w: %016x", ErrSegmentMissing, id)
}

// SegmentInfo describes one segment of the log.
type SegmentInfo struct {
	ID   uint32 // in memory (index.Entry.Segment)
	File uint64 // file id: the file is segment.FileName(File)
}

// Live lists the segments of the log (not those replaced by compaction),
// in log order.
func (s *Segments) Live() []SegmentInfo {
	s.mu.RLock()
	out := make([]SegmentInfo, 0, len(s.files))
	for id, sf := range s.files {
		if !sf.gone {
			out = append(out, SegmentInfo{ID: uint32(id), File: sf.file})
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b SegmentInfo) int { return cmp.Compare(a.File, b.File) })
	return out
}

// SizeInfo returns the total size of the live segment files and the number
// of retired segments still open (replaced by compaction, and pinned by a
// View not yet released). skip, if
// not 0, names a segment (the active one, preallocated) to leave out.
func (s *Segments) SizeInfo(skip uint64) (bytes int64, retired int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for id, sf := range s.files {
		switch {
		case sf.gone:
			retired++
		case id != skip:
			bytes += sf.sizeLocked()
		}
	}
	return bytes, retired
}

// FileID returns the file id of the segment known in memory as id (they
// differ only for segments compaction wrote while the store is open).
func (s *Segments) FileID(id uint32) uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if sf := s.files[uint64(id)]; sf != nil {
		return sf.file
	}
	return uint64(id)
}

// Count is the number of segments in the log (not counting those replaced
// by compaction and still pinned by a View).
func (s *Segments) Count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, sf := range s.files {
		if !sf.gone {
			n++
		}
	}
	return n
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
		if sf.f != nil {
			errs = append(errs, sf.f.Close())
		}
		delete(s.files, id)
	}
	for _, m := range s.retired {
		errs = append(errs, vfs.UnmapRead(m))
	}
	s.retired = nil
	return errors.Join(errs...)
}

// ReadAt reads len(p) bytes at offset off of segment id into p: bytes,
// not events (a RunReader reads runs of events with it, and the facade the
// batch markers before a run). A segment closed by the budget is reopened
// first. For a segment compaction retired it returns ErrSegmentRetired.
func (s *Segments) ReadAt(id uint64, p []byte, off int64) error {
	for range 4 {
		s.mu.RLock()
		sf := s.files[id]
		if sf == nil {
			err := s.missingLocked(id)
			s.mu.RUnlock()
			return err
		}
		if sf.f != nil {
			s.lru.touch(sf)
			if off+int64(len(p)) <= int64(len(sf.m)) {
				copy(p, sf.m[off:])
				s.mu.RUnlock()
				return nil
			}
			_, err := sf.f.ReadAt(p, off) // under the read lock: not closed meanwhile
			s.mu.RUnlock()
			if err != nil {
				return fmt.Errorf("batpak: reading segment %016x at %d: %w", id, off, err)
			}
			s.remap(id, sf)
			return nil
		}
		s.mu.RUnlock()
		return s.readReopened(id, p, off)
	}
	return fmt.Errorf("batpak: segment %016x was closed again before it could be read (open-segment budget too small)", id)
}

// readReopened reopens an evicted segment and reads from it under the
// write lock, so a concurrent reopen of another segment cannot close it
// again before this read is done.
func (s *Segments) readReopened(id uint64, p []byte, off int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sf, err := s.reopenLocked(id)
	if err != nil {
		return err
	}
	defer s.evictLocked()
	if off+int64(len(p)) <= int64(len(sf.m)) {
		copy(p, sf.m[off:])
		return nil
	}
	if _, err := sf.f.ReadAt(p, off); err != nil {
		return fmt.Errorf("batpak: reading segment %016x at %d: %w", id, off, err)
	}
	return nil
}

// remap maps a segment again if its file has grown past its mapping (the
// active segment, preallocated by the writer after recovery mapped it).
// The old mapping may still be in use by a reader: it is kept until Close.
func (s *Segments) remap(id uint64, sf *segFile) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files[id] != sf || sf.f == nil {
		return // closed or evicted meanwhile
	}
	mf, ok := sf.f.(vfs.ReadMappable)
	if !ok {
		return
	}
	size, err := sf.f.Size()
	if err != nil || size <= int64(len(sf.m)) {
		return // or another reader remapped first
	}
	m, err := mf.MapRead()
	if err != nil {
		return
	}
	if sf.m != nil {
		s.retired = append(s.retired, sf.m)
	}
	sf.m = m
}

// Bytes returns the whole segment for scanning: its mapping when that
// covers the file, else a copy read from it. A mapping stays valid until
// Close — or, once a budget is set, until the segment is evicted, and
// once compaction runs, until it is retired: then use View.
func (s *Segments) Bytes(id uint64) ([]byte, error) {
	data, _, err := s.view(id, false)
	return data, err
}

// View is Bytes for use while a budget may evict: the segment is not
// evicted until release is called.
func (s *Segments) View(id uint64) (data []byte, release func(), err error) {
	return s.view(id, true)
}

func (s *Segments) view(id uint64, pin bool) ([]byte, func(), error) {
	for range 4 {
		s.mu.RLock()
		sf := s.files[id]
		if sf == nil {
			err := s.missingLocked(id)
			s.mu.RUnlock()
			return nil, nil, err
		}
		if sf.f == nil {
			s.mu.RUnlock()
			s.mu.Lock()
			_, err := s.reopenLocked(id)
			if err == nil && pin {
				sf.refs.Add(1) // held across the unlock: not evicted again
				defer s.unpin(id, sf)
			}
			if err == nil {
				s.evictLocked()
			}
			s.mu.Unlock()
			if err != nil {
				return nil, nil, err
			}
			continue
		}
		s.lru.touch(sf)
		// A pin holds the segment open even when the bytes are a copy, so
		// that a View means the same whatever the file system maps.
		release := func() {}
		if pin {
			sf.refs.Add(1)
			release = func() { s.unpin(id, sf) }
		}
		if size, err := sf.f.Size(); err == nil && size == int64(len(sf.m)) {
			s.mu.RUnlock()
			return sf.m, release, nil
		}
		data, err := readAll(sf.f)
		s.mu.RUnlock()
		if err != nil {
			release()
			return nil, nil, err
		}
		return data, release, nil
	}
	return nil, nil, fmt.Errorf("batpak: segment %016x was closed again before it could be read (open-segment budget too small)", id)
}

// size is segment id's file size (0 if unknown).
func (s *Segments) size(id uint64) int64 {
	s.mu.RLock()
	sf := s.files[id]
	s.mu.RUnlock()
	if sf == nil {
		return 0
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return sf.sizeLocked()
}

// sizeLocked is the segment's file size (the one recorded at eviction if
// it is closed). The caller holds s.mu.
func (sf *segFile) sizeLocked() int64 {
	if sf.f == nil {
		return sf.size
	}
	n, _ := sf.f.Size()
	return n
}
