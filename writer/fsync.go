package writer

import (
	"context"
	"time"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
)

// Fsync is the fsync actor. It takes flushes from the writer in order
// (link.flushc), coalesces all that are queued, syncs each file once, and
// then — only then — publishes their index entries and releases their
// callers. On-write work the writer published itself is synced every
// SyncEveryN events (link.syncc) or SyncInterval. Its decisions are plain
// functions of the flushes in hand (group.go); this file is its run loop.
type Fsync struct {
	cfg  Config
	fail *sticky
	link *link

	// Owned by the Serve goroutine.
	batch  []*flush // taken from the queue, not yet released (survives a panic)
	segs   []*activeSegment
	group  groupCommit
	wait   *time.Timer // group-commit wait
	pfSeg  *activeSegment
	pfDone int64 // pfSeg is prefaulted up to here
}

func newFsync(cfg Config, fail *sticky, l *link) *Fsync {
	return &Fsync{cfg: cfg, fail: fail, link: l}
}

// Serve runs the fsync actor until ctx is cancelled, then processes
// whatever the writer handed over before it stopped and syncs once more.
func (f *Fsync) Serve(ctx context.Context) error {
	var tick <-chan time.Time
	if f.cfg.SyncInterval > 0 {
		t := time.NewTicker(f.cfg.SyncInterval)
		defer t.Stop()
		tick = t.C
	}
	if len(f.batch) > 0 {
		f.process() // a crash interrupted this batch; finish it
	}
	l := f.link
	for {
		select {
		case fl := <-l.flushc:
			f.batch = append(f.batch[:0], fl)
			f.collect()
			f.gather()
			f.process()
		case <-l.syncc:
			f.syncActive()
		case <-l.prefaultc:
			f.prefaultActive()
		case <-tick:
			if l.unsynced() > 0 {
				f.syncActive()
			}
		case <-ctx.Done():
			f.collect()
			if len(f.batch) > 0 {
				f.process()
			}
			if l.unsynced() > 0 {
				f.syncActive()
			}
			return nil
		}
	}
}

// collect takes every flush queued.
func (f *Fsync) collect() {
	for {
		select {
		case fl := <-f.link.flushc:
			f.batch = append(f.batch, fl)
		default:
			return
		}
	}
}

// gather implements adaptive group commit (see groupCommit): while the
// group in hand is smaller than the last one, it waits for more flushes,
// at most GroupCommitWait.
func (f *Fsync) gather() {
	if f.cfg.GroupCommitWait <= 0 || !needsSync(f.batch) {
		return
	}
	callers := durableCallers(f.batch)
	if f.group.complete(callers) {
		f.group.synced(callers)
		return
	}
	if f.wait == nil {
		f.wait = time.NewTimer(f.cfg.GroupCommitWait)
	} else {
		f.wait.Reset(f.cfg.GroupCommitWait)
	}
	defer f.wait.Stop()
	for !f.group.complete(callers) {
		select {
		case fl := <-f.link.flushc:
			f.batch = append(f.batch, fl)
			callers = durableCallers(f.batch)
		case <-f.wait.C:
			f.group.synced(callers)
			return
		case <-f.link.done:
			return
		}
	}
	f.group.synced(callers)
}

// process syncs, publishes and releases the collected flushes, in order.
// Each flush leaves f.batch as it is released, so if a panic interrupts
// this, the restarted actor finishes exactly the flushes left (see Serve).
func (f *Fsync) process() {
	err := f.fail.get()
	syncs := needsSync(f.batch)
	if err == nil && syncs {
		err = f.syncFiles()
	}
	if err == nil && f.cfg.Inject != nil {
		if err = f.cfg.Inject(PointBeforePublish); err != nil {
			f.fail.set(err)
			err = f.fail.get()
		}
	}
	if err == nil && !syncs {
		// On-write flushes only: published below, synced like the writer's
		// own (within SyncEveryN events or SyncInterval). Counted before
		// the publish answers their callers, so that Unsynced never lags
		// an acknowledged append; synced, if due, after it, so that their
		// callers never wait for that fsync.
		f.link.handedOnWrite.Add(int64(batchEvents(f.batch)))
		defer f.syncIfDue()
	}
	for len(f.batch) > 0 {
		fl := f.batch[0]
		if err != nil {
			for _, r := range fl.reqs {
				r.finish(err)
			}
		} else {
			publish(f.cfg.Index, f.cfg.OnPublish, fl)
		}
		if fl.barrier != nil {
			close(fl.barrier)
		}
		f.batch[0] = nil
		f.batch = f.batch[1:]
		f.link.release()
		recycle(fl)
	}
}

// syncFiles fsyncs each distinct file of the batch once. A failure is
// sticky and never retried: after a failed fsync the kernel may have
// dropped the dirty pages, so a later success would prove nothing.
func (f *Fsync) syncFiles() error {
	f.segs = syncTargets(f.segs[:0], f.batch)
	defer clear(f.segs)
	if f.cfg.Inject != nil {
		if err := f.cfg.Inject(PointBeforeFsync); err != nil {
			f.fail.set(err)
			return f.fail.get()
		}
	}
	// On-write events published without an fsync — by the writer (only
	// when nothing is in flight, so before every flush of the batch) or by
	// this actor (in an earlier batch) — lie in these files too: the last
	// file's fsync covers them.
	l := f.link
	onWrite, handed := l.onWrite.Load(), l.handedOnWrite.Load()
	for _, seg := range f.segs {
		if err := f.syncSegment(seg); err != nil {
			return err
		}
	}
	f.cfg.Metrics.EventsPerFsync.Observe(uint64(batchEvents(f.batch)) + uint64(onWrite-l.synced.Load()+handed-l.handedSynced.Load()))
	l.synced.Store(onWrite)
	l.handedSynced.Store(handed)
	return nil
}

// syncIfDue syncs once SyncEveryN on-write events, the writer's and the
// actor's, wait for an fsync.
func (f *Fsync) syncIfDue() {
	if l := f.link; l.syncEveryN > 0 && l.unsynced() >= l.syncEveryN {
		f.syncActive()
	}
}

// syncSegment fsyncs one segment and notes how far it is now synced.
func (f *Fsync) syncSegment(seg *activeSegment) error {
	end := seg.written.Load() // before the fsync: it covers at least this
	if err := syncSegmentFile(seg.file, f.cfg.SyncData, &f.cfg.Metrics.Fsync); err != nil {
		f.fail.set(err)
		return f.fail.get()
	}
	seg.noteSynced(end)
	return nil
}

// syncActive fsyncs the active segment for the on-write events the writer
// published itself.
func (f *Fsync) syncActive() {
	if f.fail.get() != nil {
		return
	}
	l := f.link
	l.syncing.Store(true) // before loading active: see link.settled
	defer l.syncing.Store(false)
	onWrite, handed := l.onWrite.Load(), l.handedOnWrite.Load()
	if f.syncSegment(l.active.Load()) == nil { // a failure is sticky: writes stop
		f.cfg.Metrics.EventsPerFsync.Observe(uint64(onWrite - l.synced.Load() + handed - l.handedSynced.Load()))
		l.synced.Store(onWrite)
		l.handedSynced.Store(handed)
	}
}

func (f *Fsync) prefaultActive() {
	seg := f.link.active.Load()
	if seg == nil || seg.mlen == 0 {
		return
	}
	if seg != f.pfSeg {
		f.pfSeg, f.pfDone = seg, 0
	}
	to := min(f.link.prefaultTo.Load(), seg.mlen)
	if to > f.pfDone {
		populate(seg.mbase, f.pfDone, to-f.pfDone)
		f.pfDone = to
	}
}

// publish makes a flush visible and releases its callers. It skips entries
// already published, so finishing a flush that a crash interrupted never
// publishes an entry twice. Whoever holds the right to publish calls it
// (see link).
func publish(idx *index.Index, onPublish func([]event.Notification), fl *flush) {
	n := alreadyPublished(fl.pend, idx.LastGlobal())
	pend, notes := fl.pend[n:], fl.notes
	if len(notes) > 0 {
		notes = notes[n:]
	}
	idx.Publish(pend)
	if onPublish != nil && len(notes) > 0 {
		onPublish(notes)
	}
	for _, r := range fl.reqs {
		r.finish(nil)
	}
}

// Inflight is the number of flushes handed to the fsync actor and not yet
// released (its queue depth, including the group being synced).
func (f *Fsync) Inflight() int { return f.link.inflight() }

// Unsynced is the number of on-write events published without an fsync
// covering them yet (always 0 in Durable mode).
func (f *Fsync) Unsynced() int64 { return f.link.unsynced() }

// Active returns the active segment's id and the bytes written to it.
func (f *Fsync) Active() (id uint64, end int64) {
	if s := f.link.active.Load(); s != nil {
		return s.id, s.written.Load()
	}
	return 0, 0
}

// Settled reports whether neither the writer nor the fsync actor will
// touch segment id's file again: it is sealed, every flush of it has been
// released, and no on-write fsync is under way that may have found it
// still active. The readers may then close the file (they reopen it
// read-only when needed); the active segment and one still being synced
// are never settled.
func (f *Fsync) Settled(id uint64) bool { return f.link.settled(id) }
