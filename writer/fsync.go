package writer

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Fsync is the fsync actor. It takes flushes from the writer in order,
// coalesces all that are queued, syncs each file once, and then — only
// then — publishes their index entries and releases their callers. On-write
// work the writer published itself is synced every SyncEveryN events or
// SyncInterval.
type Fsync struct {
	cfg    Config
	fail   *sticky
	in     chan *flush
	kick   chan struct{} // buffered 1: "the unsynced count reached SyncEveryN"
	pfKick chan struct{} // buffered 1: "prefault the active segment up to pfTo"
	pfTo   atomic.Int64
	active atomic.Pointer[activeSegment]
	done   <-chan struct{}

	inflight atomic.Int64 // flushes handed over and not yet released
	unsynced atomic.Int64 // on-write events published without fsync

	sealedMu sync.Mutex
	sealed   map[uint64]*activeSegment // guarded by sealedMu: sealed segments perhaps still in use (see Settled)

	// Owned by Serve.
	batch     []*flush
	segs      []*activeSegment
	lastGroup int         // callers released by the last fsync
	wait      *time.Timer // group-commit wait
	pfSeg     *activeSegment
	pfDone    int64 // pfSeg is prefaulted up to here
}

func newFsync(cfg Config, fail *sticky, done <-chan struct{}) *Fsync {
	return &Fsync{
		cfg:    cfg,
		fail:   fail,
		in:     make(chan *flush, 1024),
		kick:   make(chan struct{}, 1),
		pfKick: make(chan struct{}, 1),
		done:   done,
	}
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
	for {
		select {
		case fl := <-f.in:
			f.batch = append(f.batch[:0], fl)
			f.collect()
			f.gather()
			f.process()
		case <-f.kick:
			f.syncActive()
		case <-f.pfKick:
			f.prefaultActive()
		case <-tick:
			if f.unsynced.Load() > 0 {
				f.syncActive()
			}
		case <-ctx.Done():
			f.collect()
			if len(f.batch) > 0 {
				f.process()
			}
			if f.unsynced.Load() > 0 {
				f.syncActive()
			}
			return nil
		}
	}
}

func (f *Fsync) collect() {
	for {
		select {
		case fl := <-f.in:
			f.batch = append(f.batch, fl)
		default:
			return
		}
	}
}

// gather implements adaptive group commit. Callers released by one fsync
// come back within microseconds, while an fsync takes hundreds: syncing
// as soon as the first of them is back would split them over two fsyncs.
// So while fewer callers wait than the last fsync released, gather waits
// for more, at most GroupCommitWait. A lone sequential caller never waits
// (its group of one is complete), and a shrinking group costs one wait.
func (f *Fsync) gather() {
	if f.cfg.GroupCommitWait <= 0 || !f.needsSync() {
		return
	}
	callers := f.durableCallers()
	if callers >= f.lastGroup {
		f.lastGroup = callers
		return
	}
	if f.wait == nil {
		f.wait = time.NewTimer(f.cfg.GroupCommitWait)
	} else {
		f.wait.Reset(f.cfg.GroupCommitWait)
	}
	defer f.wait.Stop()
	for callers < f.lastGroup {
		select {
		case fl := <-f.in:
			f.batch = append(f.batch, fl)
			callers = f.durableCallers()
		case <-f.wait.C:
			f.lastGroup = callers
			return
		case <-f.done:
			return
		}
	}
	f.lastGroup = callers
}

// durableCallers counts the requests of the batch's durable flushes.
func (f *Fsync) durableCallers() int {
	n := 0
	for _, fl := range f.batch {
		if fl.durable {
			n += len(fl.reqs)
		}
	}
	return n
}

// process syncs, publishes and releases the collected flushes, in order.
// Each flush leaves f.batch as it is released, so if a panic interrupts
// this, the restarted actor finishes exactly the flushes left (see Serve).
func (f *Fsync) process() {
	err := f.fail.get()
	if err == nil && f.needsSync() {
		err = f.syncFiles()
	}
	if err == nil && f.cfg.Inject != nil {
		if err = f.cfg.Inject(PointBeforePublish); err != nil {
			f.fail.set(err)
			err = f.fail.get()
		}
	}
	for len(f.batch) > 0 {
		fl := f.batch[0]
		if err != nil {
			for _, r := range fl.reqs {
				r.finish(err)
			}
		} else {
			f.publish(fl)
		}
		if fl.barrier != nil {
			close(fl.barrier)
		}
		f.batch[0] = nil
		f.batch = f.batch[1:]
		if fl.seg != nil {
			fl.seg.pending.Add(-1)
		}
		f.inflight.Add(-1)
		fl.reset(nil)
		flushPool.Put(fl)
	}
}

func (f *Fsync) needsSync() bool {
	for _, fl := range f.batch {
		if fl.durable {
			return true
		}
	}
	return false
}

// syncFiles fsyncs each distinct file of the batch once. A failure is
// sticky and never retried: after a failed fsync the kernel may have
// dropped the dirty pages, so a later success would prove nothing.
func (f *Fsync) syncFiles() error {
	f.segs = f.segs[:0]
	for _, fl := range f.batch {
		if fl.seg != nil && (len(f.segs) == 0 || f.segs[len(f.segs)-1] != fl.seg) {
			f.segs = append(f.segs, fl.seg)
		}
	}
	if f.cfg.Inject != nil {
		if err := f.cfg.Inject(PointBeforeFsync); err != nil {
			f.fail.set(err)
			return f.fail.get()
		}
	}
	f.unsynced.Store(0)
	for _, seg := range f.segs {
		if err := f.syncSegment(seg); err != nil {
			return err
		}
	}
	clear(f.segs)
	return nil
}

// syncSegment fsyncs one segment and notes how far it is now synced.
func (f *Fsync) syncSegment(seg *activeSegment) error {
	end := seg.written.Load() // before the fsync: it covers at least this
	if err := seg.file.Sync(); err != nil {
		f.fail.set(err)
		return f.fail.get()
	}
	seg.noteSynced(end)
	return nil
}

// publish makes a flush visible and releases its callers.
// It skips entries already published, so finishing a flush that a crash
// interrupted never publishes an entry twice.
func (f *Fsync) publish(fl *flush) {
	pend, notes := fl.pend, fl.notes
	if last := f.cfg.Index.LastGlobal(); len(pend) > 0 && pend[0].Global <= last {
		n := 0
		for n < len(pend) && pend[n].Global <= last {
			n++
		}
		pend = pend[n:]
		if len(notes) > 0 {
			notes = notes[n:]
		}
	}
	f.cfg.Index.Publish(pend)
	if f.cfg.OnPublish != nil && len(notes) > 0 {
		f.cfg.OnPublish(notes)
	}
	for _, r := range fl.reqs {
		r.finish(nil)
	}
}

// noteUnsynced counts on-write events published without fsync and kicks
// the actor when SyncEveryN is reached.
func (f *Fsync) noteUnsynced(n int) {
	if f.unsynced.Add(int64(n)) >= int64(f.cfg.SyncEveryN) && f.cfg.SyncEveryN > 0 {
		select {
		case f.kick <- struct{}{}:
		default:
		}
	}
}

func (f *Fsync) syncActive() {
	if f.fail.get() != nil {
		return
	}
	f.unsynced.Store(0)
	_ = f.syncSegment(f.active.Load()) // a failure is sticky: writes stop
}

// prefault asks the actor to fault the active segment's pages in up to to.
func (f *Fsync) prefault(to int64) {
	f.pfTo.Store(to)
	select {
	case f.pfKick <- struct{}{}:
	default:
	}
}

func (f *Fsync) prefaultActive() {
	seg := f.active.Load()
	if seg == nil || seg.mlen == 0 {
		return
	}
	if seg != f.pfSeg {
		f.pfSeg, f.pfDone = seg, 0
	}
	to := min(f.pfTo.Load(), seg.mlen)
	if to > f.pfDone {
		populate(seg.mbase, f.pfDone, to-f.pfDone)
		f.pfDone = to
	}
}

// barrier hands the fsync actor an empty durable flush and waits for it:
// everything handed over before it is then synced and published.
func (f *Fsync) barrier(seg *activeSegment) {
	fl := flushPool.Get().(*flush)
	fl.reset(seg)
	fl.durable = true
	released := make(chan struct{})
	fl.barrier = released // fl belongs to the fsync actor once sent
	f.handOver(fl)
	select {
	case <-released:
	case <-f.done:
	}
}

// waitIdle waits until every flush handed over has been released.
func (f *Fsync) waitIdle(ctx context.Context) error {
	if f.inflight.Load() == 0 {
		return nil
	}
	fl := flushPool.Get().(*flush)
	fl.reset(nil)
	released := make(chan struct{})
	fl.barrier = released
	f.inflight.Add(1)
	select {
	case f.in <- fl:
	case <-ctx.Done():
		f.inflight.Add(-1)
		return ctx.Err()
	}
	select {
	case <-released:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
