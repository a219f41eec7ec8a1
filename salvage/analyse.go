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

// chainState is an entity's last kept event.
type chainState struct {
	next   uint64
	hash   [32]byte
	global uint64
}

// window is a damaged range waiting to be counted: the intact events
// around it bound the global sequences it may have held.
type window struct {
	dmg     int // index in Report.Damage
	exact   bool
	pending bool // no intact event seen after it yet
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
			if reasons := a.admit(fr.recs, data, items[k]); reasons != nil {
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

// intact notes an intact event in log order: it bounds the damage before it.
func (a *analysis) intact(global uint64) {
	for i := range a.windows {
		if w := &a.windows[i]; w.pending {
			w.pending = false
			a.rep.Damage[w.dmg].Before = global
		}
	}
	a.last = max(a.last, global)
	a.floor = max(a.floor, global)
}

// damage records one damaged range of segment name.
func (a *analysis) damage(name string, r region, synced, size int64, lists []*listing) {
	d := Damage{Segment: name, From: r.from, To: r.to, What: r.what, Cause: r.cause, After: a.last,
		Entities: []string{}}
	// Past the last segment's sync note nothing was known synced; with the
	// note damaged, damage with nothing intact after it is taken for a torn
	// tail, as recovery takes it.
	d.Torn = (synced >= 0 && r.from >= synced) || (synced < 0 && r.to >= size)
	exact := false
	to := r.to
	if to >= size {
		to = endless // a cut file: what lay past its end is lost too
	}
	for _, l := range lists {
		evs, complete := l.within(r.from, to)
		if !complete {
			continue
		}
		exact = true
		d.Events = len(evs)
		d.Precision = "exact: " + l.from + " lists them"
		d.EntitiesPrecision = "exact: " + l.from + " lists them"
		for _, e := range evs {
			d.Globals = append(d.Globals, e.global)
			if !slices.Contains(d.Entities, e.entity) {
				d.Entities = append(d.Entities, e.entity)
			}
		}
		slices.Sort(d.Entities)
		break
	}
	a.rep.Damage = append(a.rep.Damage, d)
	a.windows = append(a.windows, window{dmg: len(a.rep.Damage) - 1, exact: exact, pending: true})
}

// missingSegment records a segment file that is not there although no
// compacted segment covers its id.
func (a *analysis) missingSegment(id uint64) {
	name := segment.FileName(id)
	d := Damage{Segment: name, What: WhatMissingSegment, Cause: "the file is not in the directory, and no compacted segment replaced it",
		After: a.last, Entities: []string{}}
	exact := false
	if l := a.ckpt.of(id); l != nil && id < a.ckpt.watermark.Segment {
		exact = true
		d.Events = len(l.events)
		d.Precision = "exact: " + l.from + " lists them"
		d.EntitiesPrecision = d.Precision
		for _, e := range l.events {
			d.Globals = append(d.Globals, e.global)
			if !slices.Contains(d.Entities, e.entity) {
				d.Entities = append(d.Entities, e.entity)
			}
			a.floor = max(a.floor, e.global)
		}
		slices.Sort(d.Entities)
	}
	a.rep.Damage = append(a.rep.Damage, d)
	a.windows = append(a.windows, window{dmg: len(a.rep.Damage) - 1, exact: exact, pending: true})
}

// finish counts what the damage may have held where nothing listed it,
// names the entities that lost events, and sums the losses.
func (a *analysis) finish() {
	rep := a.rep
	rep.LastGlobal = a.floor
	// Ranges between the same two intact events share one bound: the
	// global sequences between them, less the events listed exactly.
	type key struct{ after, before uint64 }
	listedIn := map[key]int{}
	for _, w := range a.windows {
		if d := &rep.Damage[w.dmg]; w.exact {
			listedIn[key{d.After, d.Before}] += d.Events
		}
	}
	counted := map[key]bool{}
	for _, w := range a.windows {
		d := &rep.Damage[w.dmg]
		switch {
		case w.exact:
			rep.Lost.Exact += d.Events
			continue
		case w.pending && a.hasMark && a.mark >= d.After:
			// Nothing intact follows, but the sequence reservation bounds
			// the numbers used after the last intact event.
			k := key{d.After, 0}
			d.Events = max(int(a.mark-d.After)-listedIn[k], 0)
			d.Precision = fmt.Sprintf("at most: the last intact event has global %d and the sequence reservation ends at %d", d.After, a.mark)
			if !counted[k] {
				counted[k] = true
				rep.Lost.AtMost += d.Events
			}
		case w.pending:
			d.Events = -1
			d.Precision = "unknown: nothing intact follows it and nothing lists what it held"
			if d.Torn {
				d.Precision = "unknown: past the sync note nothing was known synced, and nothing lists what it held"
			}
			rep.Lost.Unknown = true
		default:
			k := key{d.After, d.Before}
			d.Events = max(int(d.Before-d.After-1)-listedIn[k], 0)
			d.Precision = fmt.Sprintf("at most: the intact events around it have globals %d and %d", d.After, d.Before)
			if !counted[k] {
				counted[k] = true
				rep.Lost.AtMost += d.Events
			}
		}
		// Entities: those whose kept sequences jump across this range.
		d.EntitiesPrecision = "inferred from sequence gaps around it: an entity whose last events were lost here shows no gap and is not named"
		for _, g := range rep.Gaps {
			if g.After < d.beforeOrMax() && g.Before > d.After && !slices.Contains(d.Entities, g.Entity) {
				d.Entities = append(d.Entities, g.Entity)
			}
		}
		slices.Sort(d.Entities)
	}
	rep.Lost.Exact += len(rep.Dropped)
	ents := map[string]bool{}
	for _, d := range rep.Damage {
		for _, e := range d.Entities {
			ents[e] = true
		}
	}
	for _, d := range rep.Dropped {
		ents[d.Entity] = true
	}
	for _, g := range rep.Gaps {
		ents[g.Entity] = true
	}
	rep.Entities = slices.Sorted(maps.Keys(ents))
}

func (d *Damage) beforeOrMax() uint64 {
	if d.Before == 0 {
		return 1<<64 - 1
	}
	return d.Before
}

// admit checks an item's events against their entities' chains, in
// order: a sequence must not go back; one that jumps is a gap (reported,
// kept as it is, the chain restarting from the event's stored hash); one
// that follows must hash over its predecessor. On success the chains move
// on and nil is returned; otherwise nothing changes and the reasons every
// event of the item is dropped are returned (a batch goes whole).
func (a *analysis) admit(recs []rec, data []byte, it item) []string {
	tentative := map[string]chainState{}
	var gaps []Gap
	fail := -1
	why := ""
	for j, ri := range it.events {
		r := &recs[ri]
		c, ok := tentative[r.entity]
		if !ok {
			c = a.chains[r.entity]
		}
		switch {
		case r.seq < c.next:
			fail, why = j, fmt.Sprintf("sequence %d does not follow %q's sequence %d, already kept (a copy, or an event of another store)",
				r.seq, r.entity, c.next-1)
		case r.seq > c.next:
			// Before the end of a source compaction's range, retention may
			// have dropped the events between: not counted as lost.
			if c.global >= a.compactedTo {
				gaps = append(gaps, Gap{Entity: r.entity, From: c.next, To: r.seq - 1, After: c.global, Before: r.global})
			}
		case r.hasHash:
			body, _, _ := segment.ReadFrame(data[r.off:])
			if !segment.VerifyHash(body, c.hash) {
				fail, why = j, "does not hash over its predecessor: altered, or copied in from elsewhere"
			}
		}
		if fail >= 0 {
			break
		}
		tentative[r.entity] = chainState{next: r.seq + 1, hash: r.hash, global: r.global}
	}
	if fail < 0 {
		for e, c := range tentative {
			a.chains[e] = c
		}
		a.rep.Gaps = append(a.rep.Gaps, gaps...)
		return nil
	}
	reasons := make([]string, len(it.events))
	for j := range reasons {
		reasons[j] = fmt.Sprintf("in an atomic batch with global %d, which is dropped: %s", recs[it.events[fail]].global, why)
	}
	reasons[fail] = why
	return reasons
}
