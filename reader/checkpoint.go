package reader

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// CheckpointFile is the name of the index checkpoint written on close.
const CheckpointFile = "CHECKPOINT"

// WriteCheckpoint replaces the store's checkpoint atomically: a new file,
// synced, renamed over the old one, and the directory synced — a crash
// leaves the old checkpoint or the new one, never a part.
func WriteCheckpoint(fs vfs.FS, dir string, b []byte) error {
	return vfs.WriteFileAtomic(fs, dir, CheckpointFile, b)
}

// SaveCheckpoint writes the checkpoint of x, the index of segs, whose log
// ends in segment seg at end: the next Recover restores it and scans only
// what was written after. The store calls it on a clean close, once its
// actors have stopped. After a compaction (compacted) the index may name
// segments by in-memory ids and keep numbers of entities with no event
// left: the checkpoint is of a copy numbered as a scan of the files would
// number it. Where checkpoints are not supported it writes nothing.
func SaveCheckpoint(fs vfs.FS, dir string, x *index.Index, segs *Segments, seg uint64, end int64, compacted bool) error {
	if !index.CheckpointsSupported {
		return nil
	}
	last := x.LastGlobal()
	if compacted {
		x = x.Rebuilt(func(id uint32) uint32 { return uint32(segs.FileID(id)) })
	}
	return WriteCheckpoint(fs, dir, x.MarshalCheckpoint(index.Watermark{Segment: seg, Offset: end, LastGlobal: last}))
}

// loadCheckpoint reads and validates the checkpoint against the segments
// present. Any doubt returns an error (the caller rebuilds by scanning):
// a missing or damaged file, a watermark past the end of its segment or on
// a segment that does not exist (an overreaching checkpoint), or a last
// entry whose frame does not read back as that event.
func (rec *Recovered) loadCheckpoint(opts Options, ids []uint64) (*index.Index, index.Watermark, error) {
	var wm index.Watermark
	if !index.CheckpointsSupported {
		return nil, wm, errors.New("checkpoints are not supported on this machine")
	}
	f, err := opts.FS.Open(filepath.Join(opts.Dir, CheckpointFile))
	if err != nil {
		return nil, wm, err
	}
	defer f.Close()
	// Map the file rather than read it into fresh memory: the loader copies
	// what it keeps, and faulting in a large new buffer costs more than the
	// load itself.
	var b []byte
	if mf, ok := f.(vfs.ReadMappable); ok {
		if b, err = mf.MapRead(); err == nil {
			defer vfs.UnmapRead(b)
		}
	}
	if b == nil {
		if b, err = readAll(f); err != nil {
			return nil, wm, err
		}
	}
	x, wm, err := index.UnmarshalCheckpoint(b)
	if err != nil {
		return nil, wm, err
	}
	if !slices.Contains(ids, wm.Segment) {
		return nil, wm, fmt.Errorf("watermark segment %016x is not in the store", wm.Segment)
	}
	seg, err := opts.FS.Open(filepath.Join(opts.Dir, segment.FileName(wm.Segment)))
	if err != nil {
		return nil, wm, err
	}
	size, err := seg.Size()
	seg.Close()
	if err != nil || size < wm.Offset {
		return nil, wm, fmt.Errorf("watermark offset %d is past the %d bytes of segment %016x", wm.Offset, size, wm.Segment)
	}
	return x, wm, nil
}

// checkLastEntry reads the newest checkpointed event back from its segment:
// a checkpoint that no longer matches the log fails here.
func (rec *Recovered) checkLastEntry(x *index.Index, wm index.Watermark) error {
	if x.Len() == 0 {
		return nil
	}
	var last index.Entry
	for e := range x.Query(event.AllEvents(), wm.LastGlobal-1) {
		last = e
	}
	if last.Global != wm.LastGlobal {
		return fmt.Errorf("the checkpoint's last entry is %d, its watermark %d", last.Global, wm.LastGlobal)
	}
	body, err := rec.Segments.ReadFrame(last)
	if err != nil {
		return err
	}
	var v segment.EventView
	if err := segment.ParseEvent(body, &v); err != nil {
		return err
	}
	if v.Global != last.Global || v.Sequence != last.Sequence || v.Kind != last.Kind {
		return fmt.Errorf("the frame at the checkpoint's last entry is event %d, not %d", v.Global, last.Global)
	}
	rec.noteLast(&v)
	return nil
}
