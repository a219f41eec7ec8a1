package writer

// Reload tells the writer that compaction rewrote the index: events up to
// global sequence Through may be gone from it. The writer forgets what it
// cached about them — an entity's tail whose latest event is at or below
// Through (it reloads from the index on next use, so an entity whose newest
// events were dropped continues after its newest kept event, exactly as it
// would after a reopen) and idempotency keys of events at or below Through
// (the index answers for kept ones; dropped ones are forgotten).
type Reload struct {
	Entities []string // entities that lost events; others are untouched
	Through  uint64
}

// reload applies a Reload. Tails above Through belong to events appended
// after the compaction chose its segments: they are the entity's newest
// and stay.
func (w *Writer) reload(r *Reload) {
	for _, e := range r.Entities {
		if t, ok := w.st.tails[e]; ok && t.global <= r.Through {
			delete(w.st.tails, e)
		}
	}
	n := 0
	for n < len(w.st.keyFIFO) && w.st.keyFIFO[n].global <= r.Through {
		delete(w.st.keys, w.st.keyFIFO[n].key)
		n++
	}
	if n > 0 {
		w.st.keyFIFO = append(w.st.keyFIFO[:0], w.st.keyFIFO[n:]...)
	}
}
