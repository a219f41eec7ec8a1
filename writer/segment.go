package writer

import (
	"fmt"
	"path/filepath"

	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// activeSegment is the segment the writer appends to.
type activeSegment struct {
	id   uint64
	file vfs.File
	end  int64 // bytes written (the writer's own offset)
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

// rotate seals the active segment and starts the next one. The old segment
// is synced first: a segment is only ever followed by another once it is
// whole on disk, so recovery may treat damage in any but the last segment
// as corruption rather than a torn tail.
func (w *Writer) rotate() error {
	if err := w.inject(PointRotate); err != nil {
		return err
	}
	if err := w.seg.file.Sync(); err != nil {
		return err
	}
	id := w.seg.id + 1
	if id > 1<<32-1 {
		return fmt.Errorf("segment id %d exceeds the format's 32-bit limit", id)
	}
	f, err := CreateSegment(w.cfg.FS, w.cfg.Dir, id, w.cfg.Clock().UnixNano())
	if err != nil {
		return err
	}
	w.cfg.OnSegment(id, f)
	w.seg = &activeSegment{id: id, file: f, end: segment.HeaderSize}
	w.fsync.active.Store(w.seg)
	return nil
}
