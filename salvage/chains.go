package salvage

import (
	"fmt"

	"github.com/batpak-go/batpak/segment"
)

// chainState is an entity's last kept event.
type chainState struct {
	next   uint64
	hash   [32]byte
	global uint64
}

// admit checks an item's events against their entities' chains, in
// order: a sequence must not go back; one that jumps is a gap (reported,
// kept as it is, the chain restarting from the event's stored hash); one
// that follows must hash over its predecessor — unless it is a tombstone
// in a segment compaction wrote (compacted), whose hash stands for the
// payload it dropped and is taken as stored, as Verify takes it (see
// docs/FORMAT.md, "Tombstones"). On success the chains move
// on and nil is returned; otherwise nothing changes and the reasons every
// event of the item is dropped are returned (a batch goes whole).
func (a *analysis) admit(recs []rec, data []byte, it item, compacted bool) []string {
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
			if !segment.VerifyHash(body, c.hash) && !(compacted && r.tomb) {
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
