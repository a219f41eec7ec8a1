package compact

import (
	"fmt"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/segment"
)

// Retain decides which events a compaction keeps: it sees each event of the
// sealed segments once, with its payload but without Hash.Prev.
type Retain func(*event.StoredEvent) bool

// Rules say what a compaction does with each event of the sealed segments:
// Retain (nil: keep all) decides which stay, then Tombstone (nil: none)
// decides which of the kept events lose their payload and become
// tombstones (segment.AppendTombstone): same id, coordinate, sequences,
// timestamps and hash, kind event.KindTombstone, no payload. Both see each
// event once, with its payload but without Hash.Prev. An event that is
// already a tombstone stays as it is.
//
// Keys, set for a store that encrypts, opens sealed payloads for Retain
// and Tombstone (an event they cannot open reaches them with its
// PayloadErr), and says which sealed events' keys were shredded: each such
// kept event, unless Tombstone picks it, is rewritten without its sealed
// payload (segment.AppendStripped), keeping its kind; no key can open it
// any more.
type Rules struct {
	Retain    Retain
	Tombstone func(*event.StoredEvent) bool
	Keys      Keys
}

// Keys is what compaction needs of an encrypted store's keyring.
type Keys interface {
	segment.Opener
	// Shredded reports whether the sealed event v's key was destroyed
	// (false for an event already stripped, or not sealed).
	Shredded(v *segment.EventView) bool
}

// Segment is what the planner learned about one sealed segment: which of
// its frames stay, in order, and what the replacement's compaction record
// must carry. It aliases the bytes it was planned from, which must not
// change while it is in use.
type Segment struct {
	info    reader.SegmentInfo
	data    []byte                   // the segment's bytes (a mapping or a copy)
	keep    []Range                  // frames to copy: kept events and their batch markers
	kept    []uint32                 // offsets of the kept events, increasing
	dropped []uint32                 // offsets of the dropped events, increasing
	prior   *segment.CompactedRecord // set if compaction wrote this segment
	through uint64                   // the last file id this segment stands for
	first   uint64                   // global range held (0, 0 if none), including a prior record's
	last    uint64
	bytes   int64               // bytes of the kept frames
	lost    map[string]struct{} // entities that lost events
	gone    uint64              // events dropped now
	tombs   []tomb              // kept events that become tombstones, by offset
}

// tomb is a kept event's frame that the rewrite replaces: by its
// tombstone, or, for a shredded sealed event, by the event stripped of its
// payload.
type tomb struct {
	off      uint32 // the event's frame in the old segment
	size     int64  // that frame's size
	frame    []byte // the new frame (segment.AppendTombstone or AppendStripped)
	stripped bool   // a stripped event, which keeps its kind
}

// Range is a run of whole frames of a segment: Size bytes from Off.
type Range struct{ Off, Size int64 }

// Info is the segment the plan is of.
func (p *Segment) Info() reader.SegmentInfo { return p.info }

// Ranges are the runs of frames the rewrite copies, in order: each kept
// single event alone, and each kept batch as one run from its BEGIN to its
// COMMIT.
func (p *Segment) Ranges() []Range { return p.keep }

// Kept are the offsets of the kept events, increasing.
func (p *Segment) Kept() []uint32 { return p.kept }

// Dropped are the offsets of the events Retain dropped, increasing.
func (p *Segment) Dropped() []uint32 { return p.dropped }

// Tombstoned are the offsets of the kept events that become tombstones,
// increasing.
func (p *Segment) Tombstoned() []uint32 {
	out := make([]uint32, 0, len(p.tombs))
	for _, t := range p.tombs {
		if !t.stripped {
			out = append(out, t.off)
		}
	}
	return out
}

// Stripped counts the kept events whose shredded sealed payload the
// rewrite drops (Rules.Keys).
func (p *Segment) Stripped() int {
	n := 0
	for _, t := range p.tombs {
		if t.stripped {
			n++
		}
	}
	return n
}

// Bytes is the size of the frames the rewrite writes: the kept frames, a
// tombstone in place of each tombstoned event's frame.
func (p *Segment) Bytes() int64 { return p.bytes }

// PlanSegment plans a segment with Retain alone: Rules{Retain: retain}.
func PlanSegment(info reader.SegmentInfo, data []byte, retain Retain) (*Segment, error) {
	return Rules{Retain: retain}.PlanSegment(info, data)
}

// PlanSegment reads one sealed segment's records, checking each frame's
// CRC, the record structure and the global order, and decides which frames
// stay: an event stays if Retain keeps it (nil keeps every event); a batch
// stays whole if Retain keeps any of its events and goes whole otherwise.
// Of the kept events, those Tombstone picks are rewritten as tombstones (a
// batch keeps its markers and every item; only the picked items lose their
// payload), and, with Keys, those whose key was shredded are stripped.
// Damage is a *event.CorruptionError naming the segment and
// offset. It reads only data, and calls the rules on the caller's
// goroutine.
func (rules Rules) PlanSegment(info reader.SegmentInfo, data []byte) (*Segment, error) {
	retain := rules.Retain
	p := &Segment{info: info, data: data, through: info.File, lost: map[string]struct{}{}}
	corrupt := func(off int64, cause error) error {
		return &event.CorruptionError{Segment: info.File, Offset: off, Lost: int64(len(data)) - off,
			Cause: fmt.Errorf("compaction: %w", cause)}
	}
	type pend struct {
		off, size int64
		global    uint64
		entity    string
		keep      bool
		tomb      []byte // the new frame, if Tombstone picked the event or its key was shredded
		stripped  bool   // tomb is the event stripped of its shredded payload
	}
	var (
		v       segment.EventView
		batch   []pend
		begin   Range
		inBatch bool
		last    uint64
	)
	take := func(e pend, keep bool) {
		if keep {
			p.kept = append(p.kept, uint32(e.off))
			if e.tomb != nil {
				p.tombs = append(p.tombs, tomb{off: uint32(e.off), size: e.size, frame: e.tomb, stripped: e.stripped})
			}
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
			if allZero(data[off:]) {
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
			keep, tombstone := true, false
			if retain != nil || rules.Tombstone != nil {
				var ev event.StoredEvent
				v.ToStored(&ev)
				if v.Sealed && rules.Keys != nil {
					if err := reader.OpenSealed(rules.Keys, &v, &ev); err != nil {
						return nil, corrupt(off, err)
					}
				}
				if retain != nil {
					keep = retain(&ev)
				}
				if rules.Tombstone != nil && !segment.IsTombstone(&v) {
					tombstone = rules.Tombstone(&ev)
				}
			}
			e := pend{off: off, size: int64(size), global: v.Global, keep: keep}
			switch {
			case tombstone:
				e.tomb = segment.AppendTombstone(nil, &v)
			case v.Sealed && rules.Keys != nil && rules.Keys.Shredded(&v):
				e.tomb, e.stripped = segment.AppendStripped(nil, &v), true
			}
			if !keep {
				e.entity = string(v.Entity)
			}
			if inBatch {
				batch = append(batch, e)
				break
			}
			take(e, keep)
			if keep {
				p.keep = append(p.keep, Range{off, int64(size)})
			}
		case segment.TypeFooter:
			if off+int64(size) != int64(len(data)) {
				return nil, corrupt(off, fmt.Errorf("%w: footer before the end", segment.ErrBadRecord))
			}
		case segment.TypeBatchBegin:
			if inBatch {
				return nil, corrupt(off, fmt.Errorf("%w: BEGIN inside a batch", segment.ErrBadRecord))
			}
			inBatch, begin, batch = true, Range{off, int64(size)}, batch[:0]
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
				p.keep = append(p.keep, Range{begin.Off, off + int64(size) - begin.Off})
			}
			inBatch = false
		default:
			return nil, corrupt(off, fmt.Errorf("%w: record type %d", segment.ErrBadRecord, body[0]))
		}
		off += int64(size)
	}
	if inBatch {
		return nil, corrupt(begin.Off, fmt.Errorf("%w: a sealed segment ends inside a batch", segment.ErrBadRecord))
	}
	for _, r := range p.keep {
		p.bytes += r.Size
	}
	for _, t := range p.tombs {
		p.bytes += int64(len(t.frame)) - t.size
	}
	return p, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Group splits the planned segments, in log order, into runs to write as
// one file each: consecutive segments while their kept bytes fit target. A
// run of one segment that changes nothing is left alone (it is not in the
// result), so a store with nothing to drop, tombstone or merge gets no
// groups.
func Group(plans []*Segment, target int64) [][]*Segment {
	var groups [][]*Segment
	var cur []*Segment
	var size int64
	flush := func() {
		if len(cur) > 1 || (len(cur) == 1 && (len(cur[0].dropped) > 0 || len(cur[0].tombs) > 0)) {
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

// Record is the compaction record of the file replacing group g: the run
// of file ids it stands for, the global range its segments held (a prior
// compaction's range included, so numbering never goes back), and the
// events dropped over every compaction of the range.
func Record(g []*Segment) segment.CompactedRecord {
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
