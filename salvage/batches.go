package salvage

import (
	"fmt"

	"github.com/batpak-go/batpak/segment"
)

// item is what the new store gets, in order: one event alone, or an
// atomic batch of events (indexes into the segment's records).
type item struct {
	events []int
	batch  bool
	// rebuilt names a batch marker that was damaged and is written anew
	// from the other one ("BEGIN" or "COMMIT"); empty if both were intact.
	rebuilt string
}

// drop is an intact event that is not kept, and why.
type drop struct {
	rec    int
	reason string
}

// openBatch is a BEGIN read and the events after it so far.
type openBatch struct {
	m      segment.Marker
	off    int64
	events []int
}

// assembleBatches groups a segment's events (those not rejected as out
// of order) into items. A batch is kept only whole: BEGIN, exactly its
// count of events with consecutive global sequences from its first, and
// COMMIT. Two repairs keep a batch all of whose events are intact although
// a marker was damaged: a COMMIT whose BEGIN is gone names the batch's
// count and first global, so the events just before it are the batch if
// they are exactly those; and a BEGIN followed by all of its events and
// then damage where the COMMIT stood is whole if those bytes were synced
// (syncedTo): the writer writes a batch's COMMIT with its events, before
// the fsync that covers them. Every other event of a batch that is not
// whole is dropped, with the reason.
func assembleBatches(recs []rec, syncedTo int64) (items []item, drops []drop, notes []string) {
	var open *openBatch
	// broken lists the global ranges of batches found partial: an event
	// in one belongs to a batch that is not kept.
	var broken [][2]uint64
	inBroken := func(g uint64) bool {
		for _, b := range broken {
			if g >= b[0] && g < b[1] {
				return true
			}
		}
		return false
	}
	lastBatchEnd := 0 // items before this index are past the last kept batch
	dropAll := func(evs []int, reason string) {
		for _, i := range evs {
			drops = append(drops, drop{i, reason})
		}
	}
	// closeOpen ends an open batch that got no matching COMMIT.
	closeOpen := func(why string) {
		b := open
		open = nil
		whole := len(b.events) == int(b.m.Count)
		if whole {
			last := &recs[b.events[len(b.events)-1]]
			if syncedTo < 0 || last.off+int64(last.size) > syncedTo {
				whole = false
				why = "its COMMIT is missing and the batch lies past the sync note: it was never known committed"
			}
		}
		if whole {
			items = append(items, item{events: b.events, batch: true, rebuilt: "COMMIT"})
			lastBatchEnd = len(items)
			notes = append(notes, fmt.Sprintf("batch of %d events from global %d: COMMIT marker damaged, rebuilt (every event intact)",
				b.m.Count, b.m.FirstGlobal))
			return
		}
		broken = append(broken, [2]uint64{b.m.FirstGlobal, b.m.FirstGlobal + uint64(b.m.Count)})
		dropAll(b.events, fmt.Sprintf("in the atomic batch of %d events from global %d (BEGIN at offset %d), which is not whole: %s",
			b.m.Count, b.m.FirstGlobal, b.off, why))
	}
	for i := range recs {
		r := &recs[i]
		switch r.typ {
		case segment.TypeBatchBegin:
			if open != nil {
				closeOpen(fmt.Sprintf("another BEGIN at offset %d came before its COMMIT", r.off))
			}
			open = &openBatch{m: r.marker, off: r.off}
		case segment.TypeEvent:
			if r.rejected {
				continue
			}
			if open != nil {
				if r.global == open.m.FirstGlobal+uint64(len(open.events)) && len(open.events) < int(open.m.Count) {
					open.events = append(open.events, i)
					continue
				}
				closeOpen(fmt.Sprintf("global %d at offset %d is not its next event", r.global, r.off))
			}
			if inBroken(r.global) {
				drops = append(drops, drop{i, "in an atomic batch some of whose events or markers were lost"})
				continue
			}
			items = append(items, item{events: []int{i}})
		case segment.TypeBatchCommit:
			m := r.marker
			if open != nil && open.m == m && len(open.events) == int(m.Count) {
				items = append(items, item{events: open.events, batch: true})
				lastBatchEnd = len(items)
				open = nil
				continue
			}
			if open != nil {
				closeOpen(fmt.Sprintf("the COMMIT at offset %d does not match it", r.off))
			}
			// A COMMIT without its BEGIN: the events just before it with
			// globals from its first are its batch.
			j := len(items)
			for j > lastBatchEnd && !items[j-1].batch && recs[items[j-1].events[0]].global >= m.FirstGlobal {
				j--
			}
			tail := items[j:]
			whole := len(tail) == int(m.Count)
			for k, it := range tail {
				whole = whole && recs[it.events[0]].global == m.FirstGlobal+uint64(k)
			}
			if whole {
				evs := make([]int, len(tail))
				for k, it := range tail {
					evs[k] = it.events[0]
				}
				items = append(items[:j], item{events: evs, batch: true, rebuilt: "BEGIN"})
				lastBatchEnd = len(items)
				notes = append(notes, fmt.Sprintf("batch of %d events from global %d: BEGIN marker damaged, rebuilt (every event intact)",
					m.Count, m.FirstGlobal))
				continue
			}
			broken = append(broken, [2]uint64{m.FirstGlobal, m.FirstGlobal + uint64(m.Count)})
			var evs []int
			kept := items[:j]
			for _, it := range tail {
				if g := recs[it.events[0]].global; g < m.FirstGlobal+uint64(m.Count) {
					evs = append(evs, it.events[0])
				} else {
					kept = append(kept, it)
				}
			}
			items = kept
			dropAll(evs, fmt.Sprintf("in the atomic batch of %d events from global %d (COMMIT at offset %d), which is not whole",
				m.Count, m.FirstGlobal, r.off))
		}
	}
	if open != nil {
		closeOpen("the segment's records end before its COMMIT")
	}
	return items, drops, notes
}
