package batpak

import (
	"fmt"

	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/segment"
)

// compactSeg is what compaction learned about one sealed segment: which of
// its frames stay, in order, and what the replacement's record must carry.
type compactSeg struct {
	info    reader.SegmentInfo
	data    []byte                   // the segment's bytes (a mapping or a copy)
	keep    []frameRange             // frames to copy: kept events and their batch markers
	kept    []uint32                 // offsets of the kept events, increasing
	dropped []uint32                 // offsets of the dropped events, increasing
	prior   *segment.CompactedRecord // set if compaction wrote this segment
	through uint64                   // the last file id this segment stands for
	first   uint64                   // global range held (0, 0 if none), including a prior record's
	last    uint64
	bytes   int64               // bytes of the kept frames
	lost    map[string]struct{} // entities that lost events
	gone    uint64              // events dropped now
}

type frameRange struct{ off, size int64 }

// planSegment reads one sealed segment's records, checking each frame's
// CRC, the record structure and the global order, and decides which frames
// stay: an event stays if retain keeps it; a batch stays whole if retain
// keeps any of its events and goes whole otherwise.
func planSegment(info reader.SegmentInfo, data []byte, retain func(*StoredEvent) bool) (*compactSeg, error) {
	p := &compactSeg{info: info, data: data, through: info.File, lost: map[string]struct{}{}}
	corrupt := func(off int64, cause error) error {
		return &segment.CorruptionError{Segment: info.File, Offset: off, Lost: int64(len(data)) - off,
			Cause: fmt.Errorf("compaction: %w", cause)}
	}
	type pend struct {
		off, size int64
		global    uint64
		entity    string
		keep      bool
	}
	var (
		v       segment.EventView
		batch   []pend
		begin   frameRange
		inBatch bool
		last    uint64
	)
	take := func(e pend, keep bool) {
		if keep {
			p.kept = append(p.kept, uint32(e.off))
			return
		}
		p.dropped = append(p.dropped, uint32(e.off))
		p.lost[e.entity] = struct{}{}
		p.gone++
	}
	off := int64(segment.HeaderSize)
	for off < int64(len(data)) {
		body, size, err := segment.ReadFrame(data[off:])
		if err != nil {
			if allZeroBytes(data[off:]) {
				break // unused space the writer never reached
			}
			return nil, corrupt(off, err)
		}
		switch body[0] {
		case segment.TypeCompacted:
			c, err := segment.ParseCompacted(body)
			if err != nil || off != segment.HeaderSize {
				return nil, corrupt(off, fmt.Errorf("%w: misplaced or malformed compaction record", segment.ErrBadRecord))
			}
			p.prior, p.through = &c, max(c.Through, info.File)
			p.first, p.last = c.FirstGlobal, c.LastGlobal
		case segment.TypeEvent:
			if err := segment.ParseEvent(body, &v); err != nil {
				return nil, corrupt(off, err)
			}
			if v.Global <= last {
				return nil, corrupt(off, fmt.Errorf("%w: global %d after %d", segment.ErrBadRecord, v.Global, last))
			}
			last = v.Global
			if p.first == 0 {
				p.first = v.Global
			}
			p.last = max(p.last, v.Global)
			keep := true
			if retain != nil {
				var ev StoredEvent
				v.ToStored(&ev)
				keep = retain(&ev)
			}
			e := pend{off: off, size: int64(size), global: v.Global, keep: keep}
			if !keep {
				e.entity = string(v.Entity)
			}
			if inBatch {
				batch = append(batch, e)
				break
			}
			take(e, keep)
			if keep {
				p.keep = append(p.keep, frameRange{off, int64(size)})
			}
		case segment.TypeFooter:
			if off+int64(size) != int64(len(data)) {
				return nil, corrupt(off, fmt.Errorf("%w: footer before the end", segment.ErrBadRecord))
			}
		case segment.TypeBatchBegin:
			if inBatch {
				return nil, corrupt(off, fmt.Errorf("%w: BEGIN inside a batch", segment.ErrBadRecord))
			}
			inBatch, begin, batch = true, frameRange{off, int64(size)}, batch[:0]
		case segment.TypeBatchCommit:
			m, err := segment.ParseMarker(body)
			if err != nil || !inBatch || int(m.Count) != len(batch) {
				return nil, corrupt(off, fmt.Errorf("%w: COMMIT does not close its batch", segment.ErrBadRecord))
			}
			keep := false
			for _, e := range batch {
				keep = keep || e.keep
			}
			for _, e := range batch {
				take(e, keep)
			}
			if keep {
				// BEGIN, the events and COMMIT are adjacent: one range.
				p.keep = append(p.keep, frameRange{begin.off, off + int64(size) - begin.off})
			}
			inBatch = false
		default:
			return nil, corrupt(off, fmt.Errorf("%w: record type %d", segment.ErrBadRecord, body[0]))
		}
		off += int64(size)
	}
	if inBatch {
		return nil, corrupt(begin.off, fmt.Errorf("%w: a sealed segment ends inside a batch", segment.ErrBadRecord))
	}
	for _, r := range p.keep {
		p.bytes += r.size
	}
	return p, nil
}

func allZeroBytes(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// groupSegments splits the planned segments into runs to write as one
// file each: consecutive segments while their kept bytes fit target. A
// run of one segment that loses nothing is left alone.
func groupSegments(plans []*compactSeg, target int64) [][]*compactSeg {
	var groups [][]*compactSeg
	var cur []*compactSeg
	var size int64
	flush := func() {
		if len(cur) > 1 || (len(cur) == 1 && len(cur[0].dropped) > 0) {
			groups = append(groups, cur)
		}
		cur, size = nil, 0
	}
	for _, p := range plans {
		if len(cur) > 0 && size+p.bytes > target {
			flush()
		}
		cur = append(cur, p)
		size += p.bytes
	}
	flush()
	return groups
}

// record is the compaction record of the file replacing group g.
func compactedRecord(g []*compactSeg) segment.CompactedRecord {
	c := segment.CompactedRecord{Through: g[len(g)-1].through}
	for _, p := range g {
		if p.first != 0 && (c.FirstGlobal == 0 || p.first < c.FirstGlobal) {
			c.FirstGlobal = p.first
		}
		c.LastGlobal = max(c.LastGlobal, p.last)
		if p.prior != nil {
			c.Dropped += p.prior.Dropped
		}
		c.Dropped += p.gone
	}
	return c
}
