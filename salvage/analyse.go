package salvage

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"

	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
	"github.com/batpak-go/batpak/writer"
)

// ErrNotAStore is returned for a source directory without segment files.
var ErrNotAStore = errors.New("salvage: not a batpak store: no segment files")

// segPlan is one source segment's outcome: its bytes and records, and the
// items kept from it, in order.
type segPlan struct {
	id      uint64
	data    []byte
	recs    []rec
	items   []item
	created int64 // the header's creation time; 0 if the header is damaged
}

// loaded is a segment file's bytes and records, read once.
type loaded struct {
	data []byte
	fr   frames
}

// headGlobal is the median global sequence of a segment's first intact
// events (0 if it has none): one stale or misdirected frame among them
// does not move it far.
func headGlobal(recs []rec) uint64 {
	var gs []uint64
	for i := 0; i < len(recs) && len(gs) < 5; i++ {
		if recs[i].typ == segment.TypeEvent {
			gs = append(gs, recs[i].global)
		}
	}
	if len(gs) == 0 {
		return 0
	}
	slices.Sort(gs)
	return gs[len(gs)/2]
}

// analysis is the state of one pass over a source store.
type analysis struct {
	fs   vfs.FS
	dir  string
	rep  *Report
	ckpt *checkpoint
	// chains holds each entity's last kept event; compactedTo is the end
	// of the global range the source's compacted segments cover (a
	// sequence gap before it may be retention's, not damage's).
	chains      map[string]chainState
	compactedTo uint64
	last        uint64 // global of the last intact event in log order
	floor       uint64 // highest global the source is known to have used
	// mark is the source's sequence reservation, if readable: no event
	// was numbered above it, which bounds damage at the log's end.
	mark    uint64
	hasMark bool
	windows []window
}

// analyse reads the store in dir, segment by segment, and hands each
// segment's plan to sink in log order. It never writes to dir.
func analyse(ctx context.Context, fs vfs.FS, dir string, sink func(*segPlan) error) (*Report, error) {
	a := &analysis{fs: fs, dir: dir, chains: map[string]chainState{},
		rep: &Report{Source: dir, Damage: []Damage{}, Dropped: []Dropped{}, Gaps: []Gap{}, Notes: []string{}}}
	names, err := fs.List(dir)
	if err != nil {
		return nil, err
	}
	var ids []uint64
	for _, n := range names {
		if id, ok := segment.ParseFileName(n); ok {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotAStore, dir)
	}
	slices.Sort(ids)
	a.ckpt = loadCheckpoint(fs, dir)
	a.rep.Checkpoint = a.ckpt.status
	a.floor = a.ckpt.lastGlobal
	switch mark, err := writer.ReadReservation(fs, dir); {
	case err != nil:
		a.note("the sequence reservation file is damaged or unreadable (%v): numbering in the new store continues above the highest global sequence found instead", err)
	default:
		a.floor = max(a.floor, mark)
		a.mark, a.hasMark = mark, mark > 0
		// A mark no higher than the checkpoint's last event says nothing
		// was numbered after the checkpoint: it lists the whole log.
		if a.ckpt.bySeg != nil && mark > 0 && mark <= a.ckpt.lastGlobal {
			a.ckpt.whole = true
		}
	}
	ids, err = a.dropUnused(ids)
	if err != nil {
		return nil, err
	}
	// Segments are read one ahead: the next one's first events bound this
	// one's from above (see rejectOutOfOrder).
	ahead := map[uint64]*loaded{}
	load := func(id uint64) (*loaded, error) {
		if l := ahead[id]; l != nil {
			delete(ahead, id)
			return l, nil
		}
		data, err := a.read(id)
		if err != nil {
			return nil, err
		}
		return &loaded{data: data, fr: readFrames(data)}, nil
	}
	through := uint64(0) // the last file id the segments so far stand for
	for i, id := range ids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if i > 0 && id <= through {
			a.note("%s lies inside the range a compacted segment replaced: a leftover of an interrupted compaction, not read (its events are in the compacted segment)",
				segment.FileName(id))
			continue
		}
		if i > 0 {
			for missing := through + 1; missing < id; missing++ {
				a.missingSegment(missing)
			}
		}
		cur, err := load(id)
		if err != nil {
			return nil, err
		}
		through = id
		if recs := cur.fr.recs; len(recs) > 0 && recs[0].compact != nil {
			through = max(id, recs[0].compact.Through)
		}
		var next uint64
		for _, nid := range ids[i+1:] {
			if nid <= through {
				continue // a leftover
			}
			if ahead[nid], err = load(nid); err != nil {
				return nil, err
			}
			next = headGlobal(ahead[nid].fr.recs)
			break
		}
		plan := a.segment(id, cur, i == len(ids)-1, next)
		if err := sink(plan); err != nil {
			return nil, err
		}
	}
	a.finish()
	return a.rep, nil
}

func (a *analysis) note(format string, args ...any) {
	a.rep.Notes = append(a.rep.Notes, fmt.Sprintf(format, args...))
}

func (a *analysis) read(id uint64) ([]byte, error) {
	f, err := a.fs.Open(filepath.Join(a.dir, segment.FileName(id)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a.rep.SegmentsRead++
	return readAll(f)
}

// dropUnused leaves out trailing segment files without a valid header
// and with nothing but zeros after it: a crash while creating a segment
// leaves one (Open removes it); it never held an event.
func (a *analysis) dropUnused(ids []uint64) ([]uint64, error) {
	for len(ids) > 0 {
		id := ids[len(ids)-1]
		f, err := a.fs.Open(filepath.Join(a.dir, segment.FileName(id)))
		if err != nil {
			return nil, err
		}
		data, err := readAll(f)
		f.Close()
		if err != nil {
			return nil, err
		}
		if _, herr := segment.DecodeHeader(data); herr == nil || !allZero(data[min(len(data), segment.HeaderSize):]) {
			break
		}
		a.note("%s has no valid header and holds nothing: a segment whose creation a crash cut short; left out", segment.FileName(id))
		ids = ids[:len(ids)-1]
	}
	return ids, nil
}

// syncedTo is how far a segment's bytes are known synced: a sealed one
// whole, the last one up to its sync note (-1: the note is damaged).
func syncedTo(data []byte, last bool) int64 {
	if !last {
		return int64(len(data))
	}
	if end, ok := segment.DecodeSyncNote(data); ok {
		return end
	}
	return -1
}

// segment reads one segment and decides what of it is kept.
func (a *analysis) segment(id uint64, l *loaded, last bool, next uint64) *segPlan {
	data := l.data
	plan := &segPlan{id: id, data: data}
	name := segment.FileName(id)
	if h, err := segment.DecodeHeader(data); err != nil || h.ID != id {
		cause := "header names another segment"
		if err != nil {
			cause = causeText(err)
		}
		a.rep.Damage = append(a.rep.Damage, Damage{Segment: name, From: 0, To: min(int64(len(data)), segment.HeaderSize),
			What: WhatHeader, Cause: cause, Events: 0, Precision: "exact: a header holds no event; the new store's is written anew",
			After: a.last, Entities: []string{}, EntitiesPrecision: "none"})
	} else {
		plan.created = h.Created
	}
	fr := l.fr
	plan.recs = fr.recs
	var comp *segment.CompactedRecord
	if len(fr.recs) > 0 && fr.recs[0].compact != nil {
		comp = fr.recs[0].compact
		a.compactedTo = max(a.compactedTo, comp.LastGlobal)
		a.floor = max(a.floor, comp.LastGlobal)
	}
	rejectOutOfOrder(fr.recs, a.last, next, comp)
	synced := syncedTo(data, last)
	items, drops, notes := assembleBatches(fr.recs, synced)
	for _, n := range notes {
		a.note("%s: %s", name, n)
	}

	// What the segment's footer and the checkpoint list of it, where they
	// agree with the intact events read.
	var lists []*listing
	if fr.footer {
		if l := footerListing(data); l != nil && l.agrees(fr.recs) {
			lists = append(lists, l)
		} else if l != nil {
			a.note("%s: its footer disagrees with its frames; not used", name)
		}
	}
	if l := a.ckpt.of(id); l != nil && l.agrees(fr.recs) {
		lists = append(lists, l)
	}
	for _, l := range lists {
		for _, e := range l.events {
			a.floor = max(a.floor, e.global)
		}
	}

	// Damaged ranges: unreadable bytes, and intact frames out of the
	// log's order, in file order.
	regions := slices.Clone(fr.bad)
	for i := range fr.recs {
		if r := &fr.recs[i]; r.rejected {
			regions = append(regions, region{from: r.off, to: r.off + int64(r.size), what: WhatStale,
				cause: fmt.Sprintf("an intact event frame (global %d, %q sequence %d) that does not fit the log's order here", r.global, r.entity, r.seq)})
		}
	}
	slices.SortFunc(regions, func(x, y region) int { return cmpInt(x.from, y.from) })

	// Walk the records and the damage in file order: each range is bounded
	// by the intact events around it; each item is checked against its
	// entities' chains and kept or dropped.
	dropped := map[int]string{}
	for _, d := range drops {
		dropped[d.rec] = d.reason
	}
	itemAt := map[int]int{} // first record of an item -> item index
	for k, it := range items {
		itemAt[it.events[0]] = k
	}
	ri := 0
	for i := range fr.recs {
		r := &fr.recs[i]
		for ri < len(regions) && regions[ri].from < r.off {
			a.damage(name, regions[ri], synced, int64(len(data)), lists)
			ri++
		}
		if r.typ != segment.TypeEvent || r.rejected {
			continue
		}
		a.intact(r.global)
		if k, ok := itemAt[i]; ok {
			if reasons := a.admit(fr.recs, data, items[k], comp != nil); reasons != nil {
				for j, why := range reasons {
					dropped[items[k].events[j]] = why
				}
			} else {
				plan.items = append(plan.items, items[k])
			}
		}
	}
	for ; ri < len(regions); ri++ {
		a.damage(name, regions[ri], synced, int64(len(data)), lists)
	}
	if fr.workOut {
		a.note("%s: the search for intact frames after damage gave up (over %d bytes checksummed); the rest of the segment is reported unreadable",
			name, resyncBudget)
	}
	for _, i := range slices.Sorted(maps.Keys(dropped)) {
		r := &fr.recs[i]
		a.rep.Dropped = append(a.rep.Dropped, Dropped{Segment: name, Offset: r.off, Global: r.global, ID: r.id.String(),
			Entity: r.entity, Sequence: r.seq, Reason: dropped[i]})
	}
	for _, it := range plan.items {
		a.rep.EventsKept += len(it.events)
		if it.batch {
			a.rep.BatchesKept++
			a.rep.BatchEventsKept += len(it.events)
		}
	}
	return plan
}
