package salvage

import (
	"errors"
	"path/filepath"
	"time"

	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// segWriter writes the new store's segments as the analysis hands over
// each source segment's plan. It holds one plan back: a segment's
// compaction record covers the global range up to the next segment's
// first event (and the last one's up to the source's highest known
// global), and its ids up to the next file's.
type segWriter struct {
	fs       vfs.FS
	dir      string
	now      func() time.Time
	pending  *segPlan
	prevLast uint64 // the record range of the segments written so far ends here
	lastID   uint64 // the last segment id written
	written  int
}

func (w *segWriter) add(p *segPlan) error {
	if len(p.items) == 0 {
		return nil // nothing kept: no file
	}
	if w.pending != nil {
		next := p.recs[p.items[0].events[0]].global
		if err := w.write(w.pending, p.id-1, next-1); err != nil {
			return err
		}
	}
	w.pending = p
	return nil
}

// finish writes the held plan, then an empty segment for the next writer.
func (w *segWriter) finish(floor uint64) error {
	switch {
	case w.pending != nil:
		p := w.pending
		lastKept := p.recs[p.items[len(p.items)-1].events[len(p.items[len(p.items)-1].events)-1]].global
		if err := w.write(p, p.id, max(floor, lastKept)); err != nil {
			return err
		}
	case floor > 0:
		// Nothing kept at all: one empty compacted segment still carries
		// the numbering floor.
		if err := w.write(&segPlan{id: 1}, 1, floor); err != nil {
			return err
		}
	}
	hdr := segment.EncodeHeader(segment.Header{ID: w.lastID + 1, Created: w.now().UnixNano()})
	if err := w.create(segment.FileName(w.lastID+1), hdr[:]); err != nil {
		return err
	}
	return w.fs.SyncDir(w.dir)
}

// write writes plan p as a sealed compacted segment standing for file ids
// p.id … through and global sequences up to last.
func (w *segWriter) write(p *segPlan, through, last uint64) error {
	created := p.created
	if created == 0 {
		created = w.now().UnixNano()
	}
	buf := encode(p, created, segment.CompactedRecord{Through: through, FirstGlobal: w.prevLast + 1, LastGlobal: last})
	if err := w.create(segment.FileName(p.id), buf); err != nil {
		return err
	}
	w.prevLast, w.lastID = last, through
	w.written++
	return nil
}

// create writes a new file whole and syncs it.
func (w *segWriter) create(name string, b []byte) error {
	f, err := w.fs.Create(filepath.Join(w.dir, name))
	if err != nil {
		return err
	}
	_, err = f.WriteAt(b, 0)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// encode returns the bytes of the segment that holds plan p's kept items:
// a header, the compaction record c, the kept frames byte for byte (each
// batch between a BEGIN and a COMMIT encoded from its events, identical to
// the originals where those were intact), an index footer, and a sync note
// covering the whole file.
func encode(p *segPlan, created int64, c segment.CompactedRecord) []byte {
	hdr := segment.EncodeHeader(segment.Header{ID: p.id, Created: created})
	buf := append(make([]byte, 0, len(p.data)+256), hdr[:]...)
	buf = segment.AppendCompacted(buf, c)
	fb := segment.NewFooterBuilder()
	var v segment.EventView
	for _, it := range p.items {
		var m segment.Marker
		if it.batch {
			m = segment.Marker{Count: uint32(len(it.events)), FirstGlobal: p.recs[it.events[0]].global}
			buf = segment.AppendMarker(buf, segment.TypeBatchBegin, m)
		}
		for _, ri := range it.events {
			r := &p.recs[ri]
			at := int64(len(buf))
			frame := p.data[r.off : r.off+int64(r.size)]
			buf = append(buf, frame...)
			_ = segment.ParseEventFields(frame[segment.FrameHeaderSize:], &v) // parsed whole when read
			fb.Add(&segment.FooterEntry{Entity: string(v.Entity), Scope: string(v.Scope), IdemKey: string(v.IdemKey),
				Kind: v.Kind, Global: v.Global, Sequence: v.Sequence, Offset: uint32(at), Size: uint32(r.size)})
		}
		if it.batch {
			buf = segment.AppendMarker(buf, segment.TypeBatchCommit, m)
		}
	}
	buf = fb.AppendFrame(buf, int64(len(buf)))
	note := segment.EncodeSyncNote(int64(len(buf)))
	copy(buf[segment.SyncNoteOffset:], note[:])
	return buf
}
