package compact

import (
	"context"
	"path/filepath"
	"time"

	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// Files is where a rewrite writes: the store's directory through its file
// system, and the clock that dates the new segments' headers.
type Files struct {
	FS    vfs.FS
	Dir   string
	Clock func() time.Time
}

// Rewritten is what a rewrite did: what it wrote and removed, and the
// groups whose new file is in place, which Apply makes what readers see.
type Rewritten struct {
	SegmentsWritten int   // files written, each replacing one group
	SegmentsRemoved int   // segment files replaced
	EventsKept      int   // events of the replaced segments kept
	EventsDropped   int   // events of the replaced segments dropped
	Tombstoned      int   // kept events rewritten as tombstones
	Stripped        int   // kept events stripped of their shredded sealed payload
	BytesBefore     int64 // size of the segments replaced
	BytesAfter      int64 // size of the files replacing them
	done            []committed
}

// committed is a group whose new file is in place: where its kept events
// moved.
type committed struct {
	group   []*Segment
	file    vfs.File // the new segment, open read-only
	newAt   []uint32 // new offsets of the group's kept events, in order
	newSize []uint32 // their frames' sizes there (a tombstone's differs)
}

// Rewrite removes the store's checkpoint (it locates events by segment and
// offset, which the rewrite changes), then replaces each group in turn by
// the protocol of docs/FORMAT.md ("Compaction"): the group's kept frames
// are written under a temporary name after a header and a compaction
// record, with a footer, and synced; the file is renamed over the group's
// first segment and the directory synced (the commit point); then the
// group's other segments are removed and the directory synced again.
//
// It stops at the first error, or before the next group once ctx has
// ended. Even then, the Rewritten it returns holds the groups committed
// before: they are on disk, and the caller must Apply them.
func (f Files) Rewrite(ctx context.Context, groups [][]*Segment) (*Rewritten, error) {
	out := &Rewritten{}
	err := f.removeCheckpoint()
	for _, g := range groups {
		if err != nil {
			break
		}
		if err = ctx.Err(); err == nil {
			err = f.replace(g, out)
		}
	}
	return out, err
}

// removeCheckpoint deletes the checkpoint before any segment changes.
func (f Files) removeCheckpoint() error {
	err := f.FS.Remove(filepath.Join(f.Dir, reader.CheckpointFile))
	if err != nil && !vfs.IsNotExist(err) {
		return err
	}
	if err == nil {
		if err := f.FS.SyncDir(f.Dir); err != nil {
			return err
		}
	}
	return nil
}

// replace writes group g's kept frames as one segment file and puts it in
// place of the group's segments.
func (f Files) replace(g []*Segment, out *Rewritten) error {
	first := g[0].info.File
	buf, newAt, newSize, err := Encode(g, f.Clock().UnixNano())
	if err != nil {
		return err
	}
	tmp := filepath.Join(f.Dir, segment.CompactTempName(first))
	if err := f.FS.Remove(tmp); err != nil && !vfs.IsNotExist(err) {
		return err
	}
	file, err := f.FS.Create(tmp)
	if err != nil {
		return err
	}
	_, err = file.WriteAt(buf, 0)
	if err == nil {
		err = file.Sync()
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = f.FS.Remove(tmp)
		return err
	}
	final := filepath.Join(f.Dir, segment.FileName(first))
	if err := f.FS.Rename(tmp, final); err != nil {
		return err
	}
	// The commit point: once the rename is durable, recovery treats the
	// group's other files as leftovers to remove.
	if err := f.FS.SyncDir(f.Dir); err != nil {
		return err
	}
	nf, err := f.FS.Open(final)
	if err != nil {
		return err
	}
	out.done = append(out.done, committed{group: g, file: nf, newAt: newAt, newSize: newSize})
	for _, p := range g[1:] {
		if err := f.FS.Remove(filepath.Join(f.Dir, segment.FileName(p.info.File))); err != nil && !vfs.IsNotExist(err) {
			return err
		}
	}
	if len(g) > 1 {
		if err := f.FS.SyncDir(f.Dir); err != nil {
			return err
		}
	}
	out.SegmentsWritten++
	out.SegmentsRemoved += len(g)
	out.BytesAfter += int64(len(buf))
	for _, p := range g {
		out.BytesBefore += int64(len(p.data))
		out.EventsKept += len(p.kept)
		out.EventsDropped += len(p.dropped)
		stripped := p.Stripped()
		out.Tombstoned += len(p.tombs) - stripped
		out.Stripped += stripped
	}
	return nil
}

// Encode returns the bytes of the sealed segment that replaces group g: a
// header with the group's first file id and the creation time created
// (Unix nanoseconds), the compaction record (Record), the kept frames byte
// for byte — a tombstone's frame in place of each tombstoned event's — an
// index footer, and a sync note covering the whole file. It also returns
// the new offset and frame size of each kept event, in the order of the
// group's Kept offsets. It touches no file.
func Encode(g []*Segment, created int64) (buf []byte, newAt, newSize []uint32, err error) {
	buf = make([]byte, segment.HeaderSize, segment.HeaderSize+64+int(sumBytes(g)))
	hdr := segment.EncodeHeader(segment.Header{ID: g[0].info.File, Created: created})
	copy(buf, hdr[:])
	buf = segment.AppendCompacted(buf, Record(g))
	for _, p := range g {
		ki, ti := 0, 0
		for _, r := range p.keep {
			pos, end := r.Off, r.Off+r.Size
			for {
				// Copy up to the next tombstone in the range (or its end):
				// the kept events there shift by base.
				next := end
				if ti < len(p.tombs) && int64(p.tombs[ti].off) < end {
					next = int64(p.tombs[ti].off)
				}
				base := int64(len(buf)) - pos
				buf = append(buf, p.data[pos:next]...)
				for ki < len(p.kept) && int64(p.kept[ki]) < next {
					newAt = append(newAt, uint32(int64(p.kept[ki])+base))
					ki++
				}
				if next == end {
					break
				}
				t := p.tombs[ti]
				newAt = append(newAt, uint32(len(buf)))
				buf = append(buf, t.frame...)
				ki++ // t.off is kept[ki]
				ti++
				pos = next + t.size
			}
		}
	}
	// The new file is a sealed segment: it gets a footer too, read from the
	// frames as written.
	fb := segment.NewFooterBuilder()
	var v segment.EventView
	for _, at := range newAt {
		body, size, err := segment.ReadFrame(buf[at:])
		if err == nil {
			err = segment.ParseEventFields(body, &v)
		}
		if err != nil {
			return nil, nil, nil, err
		}
		newSize = append(newSize, uint32(size))
		fb.Add(&segment.FooterEntry{Entity: string(v.Entity), Scope: string(v.Scope), IdemKey: string(v.IdemKey),
			Kind: v.Kind, Global: v.Global, Sequence: v.Sequence, Offset: at, Size: uint32(size)})
	}
	buf = fb.AppendFrame(buf, int64(len(buf)))
	// A sealed segment is synced whole; say so in its note too.
	note := segment.EncodeSyncNote(int64(len(buf)))
	copy(buf[segment.SyncNoteOffset:], note[:])
	return buf, newAt, newSize, nil
}

func sumBytes(g []*Segment) int64 {
	var n int64
	for _, p := range g {
		n += p.bytes
	}
	return n
}
