package reader

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// Recovered is the outcome of Recover.
type Recovered struct {
	Report   event.RecoveryReport
	Index    *index.Index
	Segments *Segments
	// The log's end, for the writer; LastFile is open read-write unless
	// recovery was read-only, and nil for an empty store.
	LastSegment uint64
	LastFile    vfs.File
	LastEnd     int64
	LastGlobal  uint64
	LastID      event.ID
	LastPos     event.Position

	// LastFooter, if set, holds the footer the last segment had when it
	// was opened (cut off unless read-only): the writer goes on from it.
	LastFooter *segment.FooterBuilder

	names map[string]string // interned entity and scope names, for scanning
	// sink, while set, takes staged entries in place of publishing them
	// (see scanPipelined); it returns an empty buffer to stage into.
	sink func([]index.Pending) []index.Pending
}

// Options for Recover.
type Options struct {
	FS       vfs.FS
	Dir      string
	ReadOnly bool // do not truncate or remove anything; open every file read-only
}

// Recover rebuilds the index of the store in dir by scanning every segment.
// A torn tail of the last segment is truncated (unless ReadOnly) and
// reported; damage anywhere else is a *event.CorruptionError.
func Recover(opts Options) (rec *Recovered, err error) {
	began := time.Now()
	rec = &Recovered{Index: index.New(), Segments: NewSegments()}
	segs := rec.Segments // the error returns below set rec to nil before this runs
	defer func() {
		if err != nil {
			segs.Close()
		}
	}()
	if err := CheckDir(opts.FS, opts.Dir); err != nil {
		return nil, err
	}
	l, err := readLayout(opts.FS, opts.Dir)
	if err != nil {
		return nil, err
	}
	// Files an interrupted compaction left are not part of the log: its
	// output not yet renamed into place (the originals are all there), or
	// originals its renamed output already replaces.
	rec.Report.CompactionLeftovers = l.leftoverNames()
	if !opts.ReadOnly {
		if err := removeLeftovers(opts.FS, opts.Dir, l); err != nil {
			return nil, err
		}
	}
	ids := l.ids
	for _, c := range l.compacted {
		rec.Report.CompactedSegments++
		rec.Report.RetentionDropped += c.Dropped
	}
	// Trailing segments without a valid header come from a crash while
	// creating them: they never held an event, so they are removed.
	for len(ids) > 0 {
		ok, err := hasValidHeader(opts.FS, filepath.Join(opts.Dir, segment.FileName(ids[len(ids)-1])))
		if err != nil {
			return nil, err
		}
		if ok {
			break
		}
		last := ids[len(ids)-1]
		if !opts.ReadOnly {
			if err := opts.FS.Remove(filepath.Join(opts.Dir, segment.FileName(last))); err != nil {
				return nil, err
			}
		}
		rec.Report.RemovedSegments = append(rec.Report.RemovedSegments, last)
		ids = ids[:len(ids)-1]
	}
	if len(rec.Report.RemovedSegments) > 0 && !opts.ReadOnly {
		if err := opts.FS.SyncDir(opts.Dir); err != nil {
			return nil, err
		}
	}
	files, err := openSegments(opts, ids)
	if err != nil {
		closeAll(files)
		return nil, err
	}
	for i, id := range ids {
		rec.Segments.Add(id, files[i])
	}
	first, from := 0, int64(segment.HeaderSize)
	if x, wm, err := rec.loadCheckpoint(opts, ids); err == nil {
		if err = rec.checkLastEntry(x, wm); err == nil {
			rec.Index, rec.LastGlobal, rec.Report.Checkpoint = x, wm.LastGlobal, true
			first, from = slices.Index(ids, wm.Segment), wm.Offset
		}
		if err != nil {
			rec.Report.CheckpointIgnored = err.Error()
		}
	} else if !vfs.IsNotExist(err) {
		rec.Report.CheckpointIgnored = err.Error()
	}
	scan := func() error {
		var pend []index.Pending
		for i := first; i < len(ids); i++ {
			if err := rec.scanSegment(opts, ids[i], files[i], from, i == len(ids)-1, &pend); err != nil {
				return err
			}
			from = segment.HeaderSize
		}
		return nil
	}
	if err := rec.scanPipelined(scan, ids[first:]); err != nil {
		return nil, err
	}
	if len(ids) > 0 {
		rec.LastSegment, rec.LastFile = ids[len(ids)-1], files[len(ids)-1]
	}
	rec.Report.Segments = len(ids)
	rec.Report.Events = rec.Index.Len()
	rec.Report.Duration = time.Since(began)
	return rec, nil
}

// openSegments opens every segment: the last read-write (the writer
// appends to it) unless recovery is read-only, the others read-only.
func openSegments(opts Options, ids []uint64) ([]vfs.File, error) {
	files := make([]vfs.File, 0, len(ids))
	for i, id := range ids {
		name := filepath.Join(opts.Dir, segment.FileName(id))
		open := opts.FS.Open
		if i == len(ids)-1 && !opts.ReadOnly {
			open = opts.FS.OpenRW
		}
		f, err := open(name)
		if err != nil {
			return files, err
		}
		files = append(files, f)
	}
	return files, nil
}

func closeAll(files []vfs.File) {
	for _, f := range files {
		f.Close()
	}
}

// ErrMissingSegment reports a gap in the segment files.
var ErrMissingSegment = errors.New("batpak: segment file missing")

func hasValidHeader(fs vfs.FS, name string) (bool, error) {
	f, err := fs.Open(name)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var b [segment.HeaderSize]byte
	n, err := f.ReadAt(b[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	if _, herr := segment.DecodeHeader(b[:n]); herr == nil {
		return true, nil
	}
	// A crash while creating a segment can tear only its header: frames
	// are written after the header is synced. A bad header followed by any
	// non-zero byte is damage to a segment that held events: keep it, so
	// that the scan reports the corruption rather than deleting them.
	size, err := f.Size()
	if err != nil || size <= segment.HeaderSize {
		return false, err
	}
	rest := make([]byte, min(size-segment.HeaderSize, 1<<20))
	for off := int64(segment.HeaderSize); off < size; off += int64(len(rest)) {
		m, err := f.ReadAt(rest, off)
		if err != nil && !errors.Is(err, io.EOF) {
			return false, err
		}
		for _, c := range rest[:m] {
			if c != 0 {
				return true, nil
			}
		}
	}
	return false, nil
}

// scanSegment indexes the frames of one segment from offset from.
func (rec *Recovered) scanSegment(opts Options, id uint64, f vfs.File, from int64, last bool, pend *[]index.Pending) error {
	data, err := rec.Segments.Bytes(id)
	if err != nil {
		return err
	}
	h, err := segment.DecodeHeader(data)
	if err != nil {
		return &event.CorruptionError{Segment: id, Offset: 0, Lost: int64(len(data)), Cause: err}
	}
	if h.ID != id {
		return &event.CorruptionError{Segment: id, Offset: 0, Lost: int64(len(data)),
			Cause: fmt.Errorf("%w: header names segment %016x", segment.ErrBadRecord, h.ID)}
	}
	synced := syncedTo(data, last)
	if last && opts.ReadOnly {
		return rec.scanDurable(id, data, from, synced, pend)
	}
	if from == segment.HeaderSize {
		var seed *segment.FooterBuilder
		if last {
			seed = segment.NewFooterBuilder()
		}
		at, ok, err := rec.fromFooter(id, data, pend, seed)
		if err != nil || !ok {
			if err != nil {
				return err
			}
		} else {
			if last {
				// Sealed at a clean close: the writer continues this segment
				// after its records, and seals it again later with a footer
				// that goes on from this one.
				rec.LastEnd, rec.LastFooter = at, seed
				if !opts.ReadOnly {
					return cutFooter(f, at, synced)
				}
			}
			return nil
		}
	}
	*pend = (*pend)[:0]
	res, err := segment.Scan(data, id, from, rec.LastGlobal, synced, rec.collect(pend, id, 0))
	if err != nil {
		return err
	}
	if res.Torn && !last {
		return &event.CorruptionError{Segment: id, Offset: res.End, Lost: int64(len(data)) - res.End,
			Cause: fmt.Errorf("%w: a sealed segment ends in damage: %s", segment.ErrBadRecord, res.TornReason)}
	}
	*pend = rec.handOver(*pend)
	rec.LastGlobal = res.LastGlobal
	if last && res.FooterAt > 0 && !res.Torn {
		// Sealed (at a clean close, or by a rotation a crash cut short
		// before the next segment existed): the writer continues here after
		// the records. The footer seeds the one it will write next.
		seed := segment.NewFooterBuilder()
		if _, err := segment.WalkFooter(data, func(e *segment.FooterEntry) error { seed.Add(e); return nil }); err == nil {
			rec.LastFooter = seed
		}
		if !opts.ReadOnly {
			if err := cutFooter(f, res.FooterAt, synced); err != nil {
				return err
			}
		}
	}
	if last {
		rec.LastEnd = res.End
		if res.Torn {
			rec.Report.Torn, rec.Report.TornSegment = true, id
			rec.Report.TruncatedAt, rec.Report.TruncatedBytes = res.End, int64(len(data))-res.End
			rec.Report.TornReason, rec.Report.DiscardedBatch = res.TornReason, res.DiscardedBatch
			if !opts.ReadOnly {
				if err := f.Truncate(res.End); err != nil {
					return err
				}
				// An unfinished batch may begin before the note: lower the note
				// so it never claims bytes the file no longer holds.
				if synced > res.End {
					note := segment.EncodeSyncNote(res.End)
					if _, err := f.WriteAt(note[:], segment.SyncNoteOffset); err != nil {
						return err
					}
				}
				if err := f.Sync(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// scanDurable indexes the last segment of a store opened read-only up to
// its sync note, as CatchUp goes on doing: another process may be writing
// the segment, and past the note lie frames it has not made durable — one
// in flight to its fsync, on-write appends not yet synced — which a power
// loss could still erase. A damaged note says nothing is known to be
// durable (CatchUp waits for a valid one). The frames past the note are
// only checked, to report a torn tail as the writer's recovery would find
// it now (read-only, nothing is truncated); LastEnd stays at the durable
// end, for CatchUp to go on from. A footer is not trusted here: on the
// last segment it may be one the writer has written and not yet synced.
func (rec *Recovered) scanDurable(id uint64, data []byte, from, synced int64, pend *[]index.Pending) error {
	// Events a checkpoint covers were synced before it was written.
	limit := max(min(synced, int64(len(data))), from)
	*pend = (*pend)[:0]
	res, err := segment.Scan(data[:limit], id, from, rec.LastGlobal, limit, rec.collect(pend, id, 0))
	if err != nil {
		return err
	}
	*pend = rec.handOver(*pend)
	rec.LastGlobal, rec.LastEnd = res.LastGlobal, res.End
	tail, err := segment.Scan(data, id, res.End, res.LastGlobal, synced, func(int64, int, *segment.EventView, bool) error { return nil })
	if err != nil {
		return err
	}
	if tail.Torn {
		rec.Report.Torn, rec.Report.TornSegment = true, id
		rec.Report.TruncatedAt, rec.Report.TruncatedBytes = tail.End, int64(len(data))-tail.End
		rec.Report.TornReason, rec.Report.DiscardedBatch = tail.TornReason, tail.DiscardedBatch
	}
	return nil
}

func readAll(f vfs.File) ([]byte, error) {
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	data := make([]byte, size)
	n, err := f.ReadAt(data, 0)
	if err != nil && !(errors.Is(err, io.EOF) && int64(n) == size) {
		return nil, err
	}
	return data[:n], nil
}

// publishChunk bounds the entries staged before they are published, so a
// rebuild reuses one small buffer rather than growing one per segment.
const publishChunk = 4096

// collect returns a scan visitor that stages each event's index entry (at
// offset base+off of segment id), publishing every publishChunk entries,
// and tracks the newest id and position. The caller publishes what is left.
func (rec *Recovered) collect(pend *[]index.Pending, id uint64, base int64) segment.Visit {
	return func(off int64, size int, v *segment.EventView, _ bool) error {
		var key string
		if len(v.IdemKey) > 0 {
			key = string(v.IdemKey)
		}
		*pend = append(*pend, index.Pending{
			ID: v.ID, Entity: rec.intern(v.Entity), Scope: rec.intern(v.Scope), IdemKey: key, Correlation: v.Correlation,
			Causation: v.Causation, Position: event.Position{WallMS: v.WallMS, Counter: v.Counter}, Kind: v.Kind, Global: v.Global, Sequence: v.Sequence,
			Segment: uint32(id), Offset: uint32(base + off), Size: uint32(size),
		})
		if len(*pend) == publishChunk {
			*pend = rec.handOver(*pend)
		}
		rec.noteLast(v)
		return nil
	}
}

// intern returns the one string for a name, allocating only the first time
// it is seen (the lookup by string(b) does not allocate).
func (rec *Recovered) intern(b []byte) string {
	if s, ok := rec.names[string(b)]; ok {
		return s
	}
	if rec.names == nil {
		rec.names = make(map[string]string)
	}
	s := string(b)
	rec.names[s] = s
	return s
}

// noteLast remembers the newest event seen, for the writer's id generator
// and clock.
func (rec *Recovered) noteLast(v *segment.EventView) {
	rec.LastID = v.ID
	rec.LastPos = event.Position{WallMS: v.WallMS, Counter: v.Counter}
}

// syncedTo is how far a segment's bytes are known to be synced: a sealed
// segment was synced whole before the next one was created; the last one
// up to its sync note (-1, unknown, if the note is damaged).
func syncedTo(data []byte, last bool) int64 {
	if !last {
		return int64(len(data))
	}
	if end, ok := segment.DecodeSyncNote(data); ok {
		return end
	}
	return -1
}

// cutFooter removes the footer of the last segment (from at on), which the
// writer is about to continue, lowering the sync note if it claimed the
// footer, and syncs: appends must never follow a footer.
func cutFooter(f vfs.File, at, synced int64) error {
	if err := f.Truncate(at); err != nil {
		return err
	}
	if synced > at || synced < 0 {
		note := segment.EncodeSyncNote(max(min(synced, at), segment.HeaderSize))
		if _, err := f.WriteAt(note[:], segment.SyncNoteOffset); err != nil {
			return err
		}
	}
	return f.Sync()
}
