package salvage

import (
	"fmt"
	"io"
	"strings"
)

// Report is what a salvage found: what it kept, and everything it could
// not keep, located and counted. Its JSON form is what batpak salvage
// --json prints and leaves in the new store as SALVAGE.json.
type Report struct {
	Source string `json:"source"`
	Dest   string `json:"dest,omitempty"` // empty for Walk
	// SegmentsRead counts the source's segment files read.
	SegmentsRead int `json:"segments_read"`
	// SegmentsWritten counts the new store's segment files (Run only).
	SegmentsWritten int `json:"segments_written,omitempty"`
	EventsKept      int `json:"events_kept"`
	BatchesKept     int `json:"batches_kept"`
	// BatchEventsKept counts the kept events that belong to those batches.
	BatchEventsKept int `json:"batch_events_kept"`
	// LastGlobal is the highest global sequence the source is known to
	// have used (its events, footers, checkpoint and sequence
	// reservation): the new store numbers its next event above it, so no
	// number that may have been seen before is given to another event.
	LastGlobal uint64 `json:"last_global"`

	// Damage lists the byte ranges that held no event that could be kept,
	// in log order, with what each is known to have held.
	Damage []Damage `json:"damage"`
	// Dropped lists the events whose frames are intact but that could not
	// be kept, each with the reason (most often: an atomic batch some of
	// whose events were lost).
	Dropped []Dropped `json:"dropped"`
	// Gaps lists, per entity, the sequences missing from the events kept
	// (a gap left by a lost event is reported, never renumbered). An
	// entity whose last events were lost shows no gap; the damage's
	// entities name it where a footer or the checkpoint knew them.
	Gaps []Gap `json:"sequence_gaps"`
	// Lost sums the events lost: the intact ones dropped, the ones the
	// damage is known to have held, and a bound on the rest.
	Lost Lost `json:"events_lost"`
	// Entities lists every entity that lost an event, as far as known.
	Entities []string `json:"entities_affected"`
	// Checkpoint says whether the source's checkpoint was readable and
	// used to name what damaged bytes held.
	Checkpoint string `json:"checkpoint"`
	// Notes are things worth knowing that lost nothing: a rebuilt segment
	// header or batch marker, a damaged checkpoint or sequence file,
	// leftovers of an interrupted compaction.
	Notes []string `json:"notes"`
}

// Damage is one damaged byte range of a source segment (or a whole
// segment file that is missing).
type Damage struct {
	Segment string `json:"segment"` // file name
	From    int64  `json:"from"`    // first byte; 0 for a missing file
	To      int64  `json:"to"`      // end, exclusive; 0 for a missing file
	// What: "unreadable bytes", "stale or misdirected frame", "segment
	// header", "torn tail", "missing segment file".
	What  string `json:"what"`
	Cause string `json:"cause"`
	// Torn is set for damage past the last segment's sync note: those
	// bytes were never known to be synced, and Open would have cut them
	// off as a torn tail rather than refuse the store.
	Torn bool `json:"torn,omitempty"`
	// Events is how many events the range held: exactly when Precision
	// starts with "exact", at most when "at most", and -1 when unknown.
	Events    int    `json:"events"`
	Precision string `json:"events_precision"`
	// Globals are the lost events' global sequences where known exactly;
	// otherwise After and Before bound them (the intact events around the
	// range; Before 0 when nothing intact follows).
	Globals []uint64 `json:"globals,omitempty"`
	After   uint64   `json:"after_global"`
	Before  uint64   `json:"before_global,omitempty"`
	// Entities are the entities the lost events belonged to; how complete
	// the list is, EntitiesPrecision says.
	Entities          []string `json:"entities"`
	EntitiesPrecision string   `json:"entities_precision"`
}

// Dropped is an intact event that was not kept.
type Dropped struct {
	Segment  string `json:"segment"`
	Offset   int64  `json:"offset"`
	Global   uint64 `json:"global"`
	ID       string `json:"id"`
	Entity   string `json:"entity"`
	Sequence uint64 `json:"sequence"`
	Reason   string `json:"reason"`
}

// Gap is a run of an entity's sequences missing from the kept events:
// From … To inclusive, between the kept events of global sequences After
// and Before (After 0: the entity's first events are missing).
type Gap struct {
	Entity string `json:"entity"`
	From   uint64 `json:"from"`
	To     uint64 `json:"to"`
	After  uint64 `json:"after_global"`
	Before uint64 `json:"before_global"`
}

// Lost sums the events lost. Exact of them are known one by one (dropped
// intact events, and events a footer or the checkpoint lists); AtMost more
// is a bound from global sequences; Unknown is set when some damage could
// have held any number (nothing intact after it, and nothing listing it).
type Lost struct {
	Exact   int  `json:"exact"`
	AtMost  int  `json:"at_most_more"`
	Unknown bool `json:"unknown_more,omitempty"`
}

// Clean reports whether nothing was lost and nothing damaged (notes
// aside).
func (r *Report) Clean() bool {
	return len(r.Damage) == 0 && len(r.Dropped) == 0 && len(r.Gaps) == 0
}

// LostSomething reports whether any event may have been lost: damage that
// held or may have held events, or a dropped event.
func (r *Report) LostSomething() bool {
	return r.Lost.Exact > 0 || r.Lost.AtMost > 0 || r.Lost.Unknown || len(r.Gaps) > 0
}

// WriteText prints the report for a person.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	if r.Dest != "" {
		p("salvaged %s into %s", r.Source, r.Dest)
	} else {
		p("read %s", r.Source)
	}
	p("  %d segment file(s) read, %d event(s) kept (%d in %d atomic batch(es))", r.SegmentsRead, r.EventsKept,
		r.BatchEventsKept, r.BatchesKept)
	if r.Dest != "" {
		p("  %d segment file(s) written; numbering continues above global %d", r.SegmentsWritten, r.LastGlobal)
	}
	p("  events lost: %s", r.Lost)
	if len(r.Entities) > 0 {
		p("  entities affected: %s", strings.Join(quoteAll(r.Entities), ", "))
	}
	p("  checkpoint: %s", r.Checkpoint)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	b.Reset()
	if err := r.WriteProblems(w); err != nil {
		return err
	}
	if r.Clean() {
		p("nothing was lost.")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteProblems prints the damage, the intact events not kept, the
// sequence gaps and the notes, one a line under a heading for each.
func (r *Report) WriteProblems(w io.Writer) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	if len(r.Damage) > 0 {
		p("damage:")
		for _, d := range r.Damage {
			p("  %s", d.String())
		}
	}
	if len(r.Dropped) > 0 {
		p("intact events not kept:")
		for _, d := range r.Dropped {
			p("  #%d %s seq %d (%s at offset %d, id %s): %s", d.Global, d.Entity, d.Sequence, d.Segment, d.Offset, d.ID, d.Reason)
		}
	}
	if len(r.Gaps) > 0 {
		p("sequence gaps (kept as they are, not renumbered):")
		for _, g := range r.Gaps {
			p("  %s", g.String())
		}
	}
	if len(r.Notes) > 0 {
		p("notes:")
		for _, n := range r.Notes {
			p("  %s", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (l Lost) String() string {
	var parts []string
	if l.Exact > 0 || (l.AtMost == 0 && !l.Unknown) {
		parts = append(parts, fmt.Sprintf("%d known", l.Exact))
	}
	if l.AtMost > 0 {
		more := ""
		if len(parts) > 0 {
			more = " more"
		}
		parts = append(parts, fmt.Sprintf("at most %d%s (bounded by the global sequences around the damage)", l.AtMost, more))
	}
	if l.Unknown {
		parts = append(parts, "an unknown number (damage with nothing intact after it and nothing listing what it held)")
	}
	return strings.Join(parts, ", and ")
}

func (d Damage) String() string {
	where := fmt.Sprintf("%s bytes %d-%d (%d bytes)", d.Segment, d.From, d.To, d.To-d.From)
	if d.What == WhatMissingSegment {
		where = d.Segment
	}
	s := fmt.Sprintf("%s: %s: %s", where, d.What, d.Cause)
	if d.Torn {
		s += " [past the sync note: never known synced; Open would cut it off as a torn tail]"
	}
	switch {
	case d.Events < 0:
		s += fmt.Sprintf("; events lost: unknown (%s)", d.Precision)
	default:
		s += fmt.Sprintf("; events lost: %d (%s)", d.Events, d.Precision)
	}
	if len(d.Globals) > 0 {
		s += "; globals " + rangesString(d.Globals)
	}
	if len(d.Entities) > 0 {
		s += fmt.Sprintf("; entities %s (%s)", strings.Join(quoteAll(d.Entities), ", "), d.EntitiesPrecision)
	} else if d.Events != 0 {
		s += fmt.Sprintf("; entities: %s", d.EntitiesPrecision)
	}
	return s
}

func (g Gap) String() string {
	seqs := fmt.Sprintf("sequence %d", g.From)
	if g.To > g.From {
		seqs = fmt.Sprintf("sequences %d-%d", g.From, g.To)
	}
	if g.After == 0 {
		return fmt.Sprintf("%q: %s missing (its first events), before global %d", g.Entity, seqs, g.Before)
	}
	return fmt.Sprintf("%q: %s missing, between globals %d and %d", g.Entity, seqs, g.After, g.Before)
}

// rangesString prints sorted numbers with runs collapsed: "3, 7-9".
func rangesString(vs []uint64) string {
	var parts []string
	for i := 0; i < len(vs); {
		j := i
		for j+1 < len(vs) && vs[j+1] == vs[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, fmt.Sprint(vs[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", vs[i], vs[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// What a damaged range is.
const (
	WhatUnreadable     = "unreadable bytes"
	WhatStale          = "stale or misdirected frame"
	WhatHeader         = "segment header"
	WhatMissingSegment = "missing segment file"
)
