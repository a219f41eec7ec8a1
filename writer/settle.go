package writer

// handOver passes a flush to the fsync actor, counting it against its
// segment (the channel is bounded: a slow disk holds the caller back).
func (f *Fsync) handOver(fl *flush) {
	if fl.seg != nil {
		fl.seg.pending.Add(1)
	}
	f.inflight.Add(1)
	f.in <- fl
}

// noteSealed records a segment the writer has just sealed, whose flushes
// the fsync actor may still be syncing and noting.
func (f *Fsync) noteSealed(seg *activeSegment) {
	f.sealedMu.Lock()
	defer f.sealedMu.Unlock()
	if f.sealed == nil {
		f.sealed = make(map[uint64]*activeSegment)
	}
	f.sealed[seg.id] = seg
}

// Settled reports whether neither the writer nor the fsync actor will
// touch segment id's file again: it is sealed and no flush of it is in
// flight. The readers may then close the file (they reopen it read-only
// when needed); the active segment and one whose flushes are still being
// synced are never settled.
func (f *Fsync) Settled(id uint64) bool {
	if a := f.active.Load(); a != nil && id >= a.id {
		return false
	}
	f.sealedMu.Lock()
	defer f.sealedMu.Unlock()
	if seg, ok := f.sealed[id]; ok {
		if seg.pending.Load() > 0 {
			return false
		}
		delete(f.sealed, id)
	}
	return true
}
