package writer

import (
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/internal/instrument"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// activeSegment is the segment the writer appends to. The writer owns it;
// the fsync actor syncs its file, reads written and the mapping's place,
// and writes the sync note under noteMu.
type activeSegment struct {
	id   uint64
	file vfs.File
	end  int64  // bytes written (the writer's own offset)
	m    []byte // the file mapped for writing, or nil: then WriteAt

	// Immutable once the segment is published: where the mapping lies, for
	// the fsync actor's prefaulting (which must not read m, which seal clears).
	mbase uintptr
	mlen  int64

	pfAsked int64 // the writer's last prefault request (writer-owned)

	// footer accumulates the segment's index footer, written when the
	// writer seals the segment on rotation (writer-owned). Nil when the
	// segment already held events when the writer took it over (it does
	// not know them all): such a segment is sealed without a footer.
	footer *segment.FooterBuilder

	// written is end as the writer last stored it (the writer is its only
	// writer), for the fsync actor: an fsync begun after loading it covers
	// at least that much.
	written atomic.Int64

	// noteMu orders the writes of the sync note: the fsync actor's, the
	// writer's lowering of it after a restart, and the seal that stops
	// them. The actor may still sync (and would note) a segment the writer
	// has sealed — its flushes run a group behind — and a note written
	// after the seal's fsync would stay out of every later fsync of a file
	// nobody syncs again.
	noteMu sync.Mutex
	// noteSealed is set (under noteMu) just before the segment's final
	// fsync, by rotation or Close: from then on the note is never written.
	noteSealed bool
}

// noteSynced records, in the segment's header, that the segment is synced
// up to end (see segment.SyncNoteOffset). The note is itself made durable by
// the next fsync — for a sealed segment, the seal's: after the seal nothing
// is noted. A failure to write it is not an error of the log: the note
// then lags further, which only makes recovery stricter.
func (s *activeSegment) noteSynced(end int64) {
	s.noteMu.Lock()
	defer s.noteMu.Unlock()
	if s.noteSealed {
		return
	}
	// A restarted writer may have cut bytes off since end was read: never
	// note more than the segment still holds.
	note := segment.EncodeSyncNote(min(end, s.written.Load()))
	_, _ = s.file.WriteAt(note[:], segment.SyncNoteOffset)
}

// sealNote stops every later write of the sync note; the caller syncs the
// file next, which makes the last note written durable for good. The note
// of a sealed segment may thus lag its end by the seal's own fsync; it
// matters only while the segment is the last one, and recovery reads a
// segment followed by another whole.
func (s *activeSegment) sealNote() {
	s.noteMu.Lock()
	s.noteSealed = true
	s.noteMu.Unlock()
}

// prefaultAhead is how far ahead of the writer the fsync actor keeps the
// mapped segment's pages faulted in. A first write to a page of a mapped
// file costs several microseconds (the file system allocates it); taken in
// the background, the writer's copy stays a copy.
const prefaultAhead = 1 << 20

// openActive wraps a segment file for appending at end, mapping it when
// the file system allows (see vfs.Mappable). A file already longer than
// size (one oversized record) is not mapped.
func openActive(id uint64, f vfs.File, end, size int64) *activeSegment {
	seg := &activeSegment{id: id, file: f, end: end}
	if end == segment.HeaderSize {
		seg.footer = segment.NewFooterBuilder()
	}
	seg.written.Store(end)
	if mf, ok := f.(vfs.Mappable); ok {
		if cur, err := f.Size(); err == nil && cur <= size {
			if m, err := mf.MapWritable(size); err == nil {
				seg.m, seg.mbase, seg.mlen = m, mappingBase(m), int64(len(m))
			}
		}
	}
	return seg
}

// writeCallMin is the size from which write uses a write call even where
// the mapping would take b. A copy into a mapped page of a file faults when
// the page was written back since its last change (after every fsync), and
// on ext4 each such fault may wait for the journal; one write call instead
// takes the pages it covers without faulting. Below a page or two a copy
// costs less than the call (measured: docs/TUNING.md, "Mapped writes").
const writeCallMin = 4 << 10

// write appends b at the segment's end: a copy into the mapping when it
// fits and is small, else a write call.
func (s *activeSegment) write(b []byte) error {
	if s.m != nil && len(b) < writeCallMin && s.end+int64(len(b)) <= int64(len(s.m)) {
		copy(s.m[s.end:], b)
	} else if _, err := s.file.WriteAt(b, s.end); err != nil {
		return err
	}
	s.end += int64(len(b))
	s.written.Store(s.end)
	return nil
}

// readAt reads bytes already written (p must lie below end).
func (s *activeSegment) readAt(p []byte, off int64) error {
	if end := off + int64(len(p)); s.m != nil && end <= int64(len(s.m)) {
		copy(p, s.m[off:end])
		return nil
	}
	_, err := s.file.ReadAt(p, off)
	return err
}

// discardFrom drops the bytes from off to the end: zeroed in a mapping
// (recovery reads an all-zero tail as unused space), truncated otherwise;
// and lowers the sync note if it claimed any of them.
func (s *activeSegment) discardFrom(off int64) error {
	s.written.Store(off) // first: the fsync actor notes no more than this from now on
	if s.m != nil && s.end <= int64(len(s.m)) {
		clear(s.m[off:s.end])
	} else if err := s.file.Truncate(off); err != nil {
		return err
	}
	s.end = off
	s.noteMu.Lock() // a note the actor writes from now on is at most off
	defer s.noteMu.Unlock()
	var h [segment.HeaderSize]byte
	if _, err := s.file.ReadAt(h[:], 0); err != nil {
		return err
	}
	if note, ok := segment.DecodeSyncNote(h[:]); ok && note > off {
		lowered := segment.EncodeSyncNote(off)
		if _, err := s.file.WriteAt(lowered[:], segment.SyncNoteOffset); err != nil {
			return err
		}
	}
	return nil
}

// seal unmaps the segment and trims the preallocated space past its end;
// the caller syncs.
func (s *activeSegment) seal() error {
	if s.m == nil {
		return nil
	}
	s.m = nil
	if err := s.file.(vfs.Mappable).Unmap(); err != nil {
		return err
	}
	return s.file.Truncate(s.end)
}

// CreateSegment creates segment id in dir, writes its header and makes both
// the file and its directory entry durable before returning, so an event is
// never acknowledged in a segment that a crash could make vanish.
func CreateSegment(fs vfs.FS, dir string, id uint64, createdNS int64) (vfs.File, error) {
	name := filepath.Join(dir, segment.FileName(id))
	f, err := fs.Create(name)
	if err != nil {
		return nil, err
	}
	hdr := segment.EncodeHeader(segment.Header{ID: id, Created: createdNS})
	if _, err = f.WriteAt(hdr[:], 0); err == nil {
		if err = f.Sync(); err == nil {
			err = fs.SyncDir(dir)
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("creating segment %s: %w", name, err)
	}
	return f, nil
}

// writeFooter appends the segment's index footer after its last record
// (see segment.FooterBuilder). The caller syncs: the footer becomes durable
// with the rest of the sealed segment, before the next segment exists, so
// a crash leaves either no footer (the segment is then the last, and a
// torn footer a torn tail) or a whole one.
func (s *activeSegment) writeFooter() error {
	if s.footer == nil {
		return nil
	}
	frame := s.footer.AppendFrame(nil, s.end)
	s.footer = nil
	_, err := s.file.WriteAt(frame, s.end)
	return err
}

// noteFooter adds a handed-on flush's events to the segment's footer.
func (s *activeSegment) noteFooter(pend []index.Pending) {
	if s.footer == nil {
		return
	}
	for i := range pend {
		p := &pend[i]
		s.footer.Add(&segment.FooterEntry{
			Entity: p.Entity, Scope: p.Scope, IdemKey: p.IdemKey, Kind: p.Kind,
			Global: p.Global, Sequence: p.Sequence, Offset: p.Offset, Size: p.Size,
		})
	}
}

// syncSegmentFile makes a segment's bytes durable: fsync, or with dataOnly
// fdatasync where the platform has it. A segment's data and size are all a
// read needs (its directory entry was synced when it was created), so
// fdatasync is enough; it skips the timestamps, which on some file systems
// costs an extra journal write per fsync. Its latency is counted in took.
func syncSegmentFile(f vfs.File, dataOnly bool, took *instrument.Histogram) error {
	start := instrument.Now()
	var err error
	if dataOnly {
		err = vfs.SyncData(f)
	} else {
		err = f.Sync()
	}
	took.Since(start)
	return err
}
