package salvage

import (
	"fmt"
	"maps"
	"slices"

	"github.com/batpak-go/batpak/segment"
)

// window is a damaged range waiting to be counted: the intact events
// around it bound the global sequences it may have held.
type window struct {
	dmg     int // index in Report.Damage
	exact   bool
	pending bool // no intact event seen after it yet
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
