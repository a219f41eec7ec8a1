package writer

// Reload tells the writer that compaction rewrote the index: events up to
// global sequence Through may be gone from it. The writer forgets what it
// cached about them — an entity's tail whose latest event is at or below
// Through (it reloads from the index on next use, so an entity whose newest
// events were dropped continues after its newest kept event, exactly as it
// would after a reopen) and idempotency keys of events at or below Through
// (the index answers for kept ones; dropped ones are forgotten). See
// core.reload.
type Reload struct {
	Entities []string // entities that lost events; others are untouched
	Through  uint64
}
