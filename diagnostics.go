package batpak

// Diagnostics is a fuller picture of the store than Stats, for operators
// and the `batpak inspect` command. Taking it costs a few locks and a
// stat of each segment file; it does not read the log.
type Diagnostics struct {
	Stats // events, entities, scopes, segments, frontier, restarts, recovery

	// Bytes is the size of the log on disk: the live segment files, the
	// active one counted up to what was written (not its preallocation).
	Bytes int64
	// RetiredSegments are segments compaction replaced that are still
	// open: only while that compaction runs, 0 afterwards.
	RetiredSegments int
	// Unsynced counts on-write events visible but not yet covered by an
	// fsync; the durable frontier is LastGlobal less these (0 in Durable
	// mode, where only durable events are visible).
	Unsynced int64
	// FsyncQueue is the number of flushes handed to the fsync actor and
	// not yet released.
	FsyncQueue     int
	FanoutRestarts int
	// LossySubscriptions and Dropped count the lossy subscriptions opened
	// since Open and the notifications they dropped for want of room.
	LossySubscriptions int
	Dropped            uint64
	// OpenSegments is how many segment files are open (and mapped) now;
	// Evictions and Reopens count what the open-segment budget
	// (WithMaxOpenSegments) closed and opened again since Open.
	OpenSegments       int
	Evictions, Reopens int64
	// ReadOnly is set for a store opened with OpenReadOnly (no actors).
	ReadOnly bool
	// LastCompaction is the report of the last Compact since Open (nil if
	// none).
	LastCompaction *CompactReport
}

// Diagnostics returns the store's counters (see Diagnostics). It works on
// a closed store too, reporting what it last knew.
func (s *Store) Diagnostics() Diagnostics {
	d := Diagnostics{Stats: s.Stats(), ReadOnly: s.readOnly}
	var active uint64
	var activeEnd int64
	if !s.readOnly {
		active, activeEnd = s.fsync.Active()
		d.Unsynced, d.FsyncQueue = s.fsync.Unsynced(), s.fsync.Inflight()
		d.FanoutRestarts = s.sup.Restarts("fanout")
	}
	d.Bytes, d.RetiredSegments = s.segs.SizeInfo(active)
	d.Bytes += activeEnd
	if s.hub != nil {
		d.LossySubscriptions, d.Dropped = s.hub.LossyTotals()
	}
	d.OpenSegments, d.Evictions, d.Reopens = s.segs.BudgetStats()
	if r := s.lastCompaction.Load(); r != nil {
		c := *r
		d.LastCompaction = &c
	}
	return d
}
