package writer

// Inflight is the number of flushes handed to the fsync actor and not yet
// released (its queue depth, including the group being synced).
func (f *Fsync) Inflight() int { return int(f.inflight.Load()) }

// Unsynced is the number of on-write events published without an fsync
// covering them yet (always 0 in Durable mode).
func (f *Fsync) Unsynced() int64 { return f.unsynced.Load() }

// Active returns the active segment's id and the bytes written to it.
func (f *Fsync) Active() (id uint64, end int64) {
	if s := f.active.Load(); s != nil {
		return s.id, s.written.Load()
	}
	return 0, 0
}
