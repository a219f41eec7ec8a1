package compact

import (
	"slices"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/reader"
)

// Committed is how many groups the rewrite put in place.
func (r *Rewritten) Committed() int { return len(r.done) }

// Apply makes the committed groups what readers see: the new files join
// segs (under fresh in-memory ids), barrier runs, the index is rewritten in
// one step (kept entries moved, tombstoned ones given their new kind,
// dropped ones removed), and the replaced
// segments are retired: closed once nothing pins them (see Plan.Release).
// The barrier is where the caller makes sure no writer state still refers
// to a dropped event's entry (the store syncs through its writer there).
//
// Apply hands the new files to segs; call it once, on every Rewritten with
// committed groups, even after an error.
func (r *Rewritten) Apply(segs *reader.Segments, idx *index.Index, barrier func()) {
	if len(r.done) == 0 {
		return
	}
	type move struct {
		to      uint32
		old     []uint32 // kept offsets, increasing
		newAt   []uint32
		newSize []uint32
		tombs   []uint32 // kept offsets that became tombstones, increasing
		dropped []uint32
	}
	moves := map[uint32]*move{}
	var retired []uint32
	for _, d := range r.done {
		to := segs.AddCompacted(d.group[0].info.File, d.file)
		at, sizes := d.newAt, d.newSize
		for _, p := range d.group {
			moves[p.info.ID] = &move{to: to, old: p.kept, newAt: at[:len(p.kept)], newSize: sizes[:len(p.kept)],
				tombs: p.Tombstoned(), dropped: p.dropped}
			at, sizes = at[len(p.kept):], sizes[len(p.kept):]
			retired = append(retired, p.info.ID)
		}
	}
	barrier()
	idx.Rewrite(func(e *index.Entry) bool {
		m := moves[e.Segment]
		if m == nil {
			return true
		}
		if i, ok := slices.BinarySearch(m.old, e.Offset); ok {
			if _, tomb := slices.BinarySearch(m.tombs, e.Offset); tomb {
				e.Kind = event.KindTombstone
			}
			e.Segment, e.Offset, e.Size = m.to, m.newAt[i], m.newSize[i]
			return true
		}
		// Only an entry compaction saw dropped goes; anything else (which
		// would be damage) keeps pointing at the retired segment.
		_, dropped := slices.BinarySearch(m.dropped, e.Offset)
		return !dropped
	})
	segs.Retire(retired, idx)
}

// Lost returns the entities that lost events in the committed groups,
// sorted, and the newest global sequence those groups held: what the
// writer must forget of its cached tails and idempotency keys.
func (r *Rewritten) Lost() (entities []string, through uint64) {
	seen := map[string]struct{}{}
	for _, d := range r.done {
		for _, p := range d.group {
			for e := range p.lost {
				if _, ok := seen[e]; !ok {
					seen[e] = struct{}{}
					entities = append(entities, e)
				}
			}
			through = max(through, p.last)
		}
	}
	slices.Sort(entities)
	return entities, through
}
