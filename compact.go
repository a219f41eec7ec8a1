package batpak

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
	"github.com/batpak-go/batpak/writer"
)

// CompactOptions says what Compact does.
type CompactOptions struct {
	// Retain decides which events stay; nil keeps every event (Compact then
	// only merges small segments). It sees each event of the sealed
	// segments once, on Compact's goroutine, with its payload but without
	// Hash.Prev. An atomic batch stays whole if Retain keeps any of its
	// events, and is dropped whole only if Retain drops them all.
	Retain func(*StoredEvent) bool
	// TargetSize bounds the kept bytes of one merged segment: consecutive
	// sealed segments are merged while what they keep fits (default: the
	// store's segment size).
	TargetSize int64
}

// CompactReport says what Compact did.
type CompactReport struct {
	SegmentsRead    int   // sealed segments examined
	SegmentsWritten int   // files written, each replacing one or more segments
	SegmentsRemoved int   // segment files replaced
	EventsKept      int   // events of the rewritten segments kept
	EventsDropped   int   // events dropped by Retain
	BytesBefore     int64 // size of the segments replaced
	BytesAfter      int64 // size of the files replacing them
	Duration        time.Duration
	Finished        time.Time // by the store's clock
}

// Compact merges small sealed segments and drops the events opts.Retain
// rejects, while appends and reads continue. It never touches the active
// segment.
//
// Kept events stay byte-identical — same ids, global and per-entity
// sequences, hashes — so their idempotency keys keep working, and an
// entity's chain stays verifiable wherever its events are kept (see
// docs/FORMAT.md, "Compaction"). An entity whose newest events are dropped
// continues after its newest kept event (at sequence 0 if none is kept),
// before and after a reopen alike.
//
// Each group of segments is replaced crash-safely: the new file is written
// under a temporary name and synced, renamed over the group's first
// segment (the directory synced), and only then are the others removed. A
// crash at any point leaves a store that opens with every kept event, and
// Open finishes or undoes the interrupted step. The checkpoint is removed
// before the first replacement (Close writes a new one).
//
// Readers see the index before or after a rewrite, never a mix: the index
// changes in one step. The replaced segments are closed and unmapped right
// after it (their disk space and descriptors come back then, not at
// Close); a reader still holding entries from before finds each event
// where compaction moved it, and skips one compaction dropped (a Get
// reports ErrNotFound), as if it had started after the compaction.
func (s *Store) Compact(ctx context.Context, opts CompactOptions) (CompactReport, error) {
	var rep CompactReport
	if err := s.readable(ctx); err != nil {
		return rep, err
	}
	if s.readOnly {
		return rep, ErrReadOnly
	}
	if opts.TargetSize <= 0 {
		opts.TargetSize = s.cfg.segmentSize
	}
	s.maint.Lock()
	defer s.maint.Unlock()
	began := time.Now()
	live := s.segs.Live()
	if len(live) < 2 {
		return rep, nil // only the active segment
	}
	sealed := live[:len(live)-1] // the newest is the writer's
	// Every event of a sealed segment was written before the next segment
	// was created; after this barrier each is in the index too.
	if err := s.Sync(ctx); err != nil {
		return rep, err
	}
	plans := make([]*compactSeg, 0, len(sealed))
	for _, info := range sealed {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		// Pinned: the open-segment budget must not unmap what is being copied.
		data, release, err := s.segs.View(uint64(info.ID))
		if err != nil {
			return rep, err
		}
		defer release()
		p, err := planSegment(info, data, opts.Retain)
		if err != nil {
			return rep, err
		}
		plans = append(plans, p)
	}
	rep.SegmentsRead = len(plans)
	groups := groupSegments(plans, opts.TargetSize)
	if len(groups) == 0 {
		s.noteCompaction(&rep, began)
		return rep, nil
	}
	c := compaction{s: s, fs: s.cfg.fs}
	err := c.removeCheckpoint()
	for _, g := range groups {
		if err != nil {
			break
		}
		if err = ctx.Err(); err == nil {
			err = c.replace(g, &rep)
		}
	}
	// What is on disk now must be what readers see, even if a later group
	// failed: apply every group committed.
	c.apply(ctx)
	if err != nil {
		return rep, fmt.Errorf("batpak: compaction: %w", err)
	}
	s.noteCompaction(&rep, began)
	return rep, nil
}

func (s *Store) noteCompaction(rep *CompactReport, began time.Time) {
	rep.Duration = time.Since(began)
	rep.Finished = s.cfg.clock()
	last := *rep
	s.lastCompaction.Store(&last)
}

// compaction is one Compact call's progress.
type compaction struct {
	s    *Store
	fs   vfs.FS
	done []committed // groups whose file is in place
}

// committed is a group whose new file is in place: where its kept events
// moved.
type committed struct {
	group []*compactSeg
	file  vfs.File // the new segment, open read-only
	newAt []uint32 // new offsets of the group's kept events, in order
}

// removeCheckpoint deletes the checkpoint before any segment changes: it
// locates events by segment and offset, and a compaction moves them.
func (c *compaction) removeCheckpoint() error {
	err := c.fs.Remove(filepath.Join(c.s.dir, reader.CheckpointFile))
	if err != nil && !vfs.IsNotExist(err) {
		return err
	}
	if err == nil {
		if err := c.fs.SyncDir(c.s.dir); err != nil {
			return err
		}
	}
	return nil
}

// replace writes group g's kept frames as one segment file and puts it in
// place of the group's segments (the protocol is in Compact's comment).
func (c *compaction) replace(g []*compactSeg, rep *CompactReport) error {
	dir, first := c.s.dir, g[0].info.File
	rec := compactedRecord(g)
	buf := make([]byte, segment.HeaderSize, segment.HeaderSize+64+int(sumBytes(g)))
	hdr := segment.EncodeHeader(segment.Header{ID: first, Created: c.s.cfg.clock().UnixNano()})
	copy(buf, hdr[:])
	buf = segment.AppendCompacted(buf, rec)
	var newAt []uint32
	for _, p := range g {
		ki := 0
		for _, r := range p.keep {
			base := int64(len(buf))
			buf = append(buf, p.data[r.off:r.off+r.size]...)
			// The kept events of this range, in order, shift by base-r.off.
			for ki < len(p.kept) && int64(p.kept[ki]) < r.off+r.size {
				newAt = append(newAt, uint32(base+int64(p.kept[ki])-r.off))
				ki++
			}
		}
	}
	// The new file is a sealed segment: it gets a footer too.
	fb := segment.NewFooterBuilder()
	i := 0
	var v segment.EventView
	for _, p := range g {
		for _, old := range p.kept {
			body, size, _ := segment.ReadFrame(p.data[old:]) // checked by planSegment
			if err := segment.ParseEventFields(body, &v); err != nil {
				return err
			}
			fb.Add(&segment.FooterEntry{Entity: string(v.Entity), Scope: string(v.Scope), IdemKey: string(v.IdemKey),
				Kind: v.Kind, Global: v.Global, Sequence: v.Sequence, Offset: newAt[i], Size: uint32(size)})
			i++
		}
	}
	buf = fb.AppendFrame(buf, int64(len(buf)))
	// A sealed segment is synced whole; say so in its note too.
	note := segment.EncodeSyncNote(int64(len(buf)))
	copy(buf[segment.SyncNoteOffset:], note[:])

	tmp := filepath.Join(dir, segment.CompactTempName(first))
	if err := c.fs.Remove(tmp); err != nil && !vfs.IsNotExist(err) {
		return err
	}
	f, err := c.fs.Create(tmp)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(buf, 0)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = c.fs.Remove(tmp)
		return err
	}
	final := filepath.Join(dir, segment.FileName(first))
	if err := c.fs.Rename(tmp, final); err != nil {
		return err
	}
	// The commit point: once the rename is durable, recovery treats the
	// group's other files as leftovers to remove.
	if err := c.fs.SyncDir(dir); err != nil {
		return err
	}
	nf, err := c.fs.Open(final)
	if err != nil {
		return err
	}
	c.done = append(c.done, committed{group: g, file: nf, newAt: newAt})
	for _, p := range g[1:] {
		if err := c.fs.Remove(filepath.Join(dir, segment.FileName(p.info.File))); err != nil && !vfs.IsNotExist(err) {
			return err
		}
	}
	if len(g) > 1 {
		if err := c.fs.SyncDir(dir); err != nil {
			return err
		}
	}
	rep.SegmentsWritten++
	rep.SegmentsRemoved += len(g)
	rep.BytesAfter += int64(len(buf))
	for _, p := range g {
		rep.BytesBefore += int64(len(p.data))
		rep.EventsKept += len(p.kept)
		rep.EventsDropped += len(p.dropped)
	}
	return nil
}

func sumBytes(g []*compactSeg) int64 {
	var n int64
	for _, p := range g {
		n += p.bytes
	}
	return n
}

// apply makes the committed groups what readers see: the new files join
// the segment set, the index is rewritten in one step (kept entries moved,
// dropped ones removed), the replaced segments are retired (closed once
// this Compact releases its views of them), and the writer forgets what it
// cached of dropped events.
func (c *compaction) apply(ctx context.Context) {
	if len(c.done) == 0 {
		return
	}
	type move struct {
		to      uint32
		old     []uint32 // kept offsets, increasing
		newAt   []uint32
		dropped []uint32
	}
	moves := map[uint32]*move{}
	var retired []uint32
	lost := map[string]struct{}{}
	var upTo uint64
	for _, d := range c.done {
		to := c.s.segs.AddCompacted(d.group[0].info.File, d.file)
		at := d.newAt
		for _, p := range d.group {
			moves[p.info.ID] = &move{to: to, old: p.kept, newAt: at[:len(p.kept)], dropped: p.dropped}
			at = at[len(p.kept):]
			retired = append(retired, p.info.ID)
			for e := range p.lost {
				lost[e] = struct{}{}
			}
			upTo = max(upTo, p.last)
		}
	}
	// What is on disk is done: finish even if ctx has ended meanwhile.
	ctx = context.WithoutCancel(ctx)
	// Before the rewrite, a barrier: the writer prunes the idempotency keys
	// it cached for published events, so none of a dropped event lingers.
	_ = c.s.Sync(ctx)
	c.s.idx.Rewrite(func(e *index.Entry) bool {
		m := moves[e.Segment]
		if m == nil {
			return true
		}
		if i, ok := slices.BinarySearch(m.old, e.Offset); ok {
			e.Segment, e.Offset = m.to, m.newAt[i]
			return true
		}
		// Only an entry compaction saw dropped goes; anything else (which
		// would be damage) keeps pointing at the retired segment.
		_, dropped := slices.BinarySearch(m.dropped, e.Offset)
		return !dropped
	})
	c.s.segs.Retire(retired, c.s.idx)
	c.s.compacted.Store(true)
	if len(lost) == 0 {
		return
	}
	r := writer.NewRequest()
	r.Reload = &writer.Reload{Entities: mapKeys(lost), Through: upTo}
	if err := c.s.send(ctx, r); err != nil {
		r.Release()
		return // closing or failed: the writer's cache no longer matters
	}
	if res, err := c.s.await(ctx, r); err == nil {
		res.Release()
	}
}

func mapKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
