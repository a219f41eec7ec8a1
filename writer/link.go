package writer

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// fsyncQueueLen bounds the flushes handed to the fsync actor and not yet
// taken by it. Policy: backpressure — a full queue blocks the writer (a
// slow disk holds the writer back, and the writer's full mailbox holds the
// callers back) until the actor takes one or stops for good. Every queue's
// bound and policy: docs/ARCHITECTURE.md, "Queues".
const fsyncQueueLen = 1024

// errFsyncStopped is the storage failure of a writer whose fsync actor has
// stopped for good: nothing more can be synced or published.
var errFsyncStopped = errors.New("batpak: the fsync actor stopped for good")

// link connects the writer to the fsync actor. The actors talk through its
// three queues; every other field has exactly one goroutine that writes it
// (others only read it), so no field is a shared counter:
//
//	field               written by           read by
//	flushc              writer sends         fsync actor receives
//	syncc, prefaultc    writer sends         fsync actor receives
//	handed              writer               writer; Inflight
//	released            fsync actor          writer (who publishes); Inflight, Settled
//	onWrite             writer               fsync actor (tick); Unsynced
//	synced              fsync actor          writer (sync kick); Unsynced
//	handedOnWrite       fsync actor          Unsynced
//	handedSynced        fsync actor          Unsynced
//	prefaultTo, active  writer               fsync actor; Active, Settled
//	syncing             fsync actor          Settled
//	sealed              writer adds          Settled deletes (guarded by sealedMu)
//
// Publication (index.Publish, Config.OnPublish) has one owner at a time:
// the fsync actor while any flush it was handed is unreleased
// (released < handed), the writer otherwise. Only the writer moves the
// right to the actor (handOver); only the actor gives it back (releasing
// its last flush). This keeps the on-write fast path — the writer
// publishes its own flush when nothing is in flight, with no hop to
// another goroutine — and every publication in global order.
type link struct {
	done <-chan struct{} // closes once the actors stopped for good

	flushc    chan *flush   // bounded fsyncQueueLen; backpressure
	syncc     chan struct{} // capacity 1, coalescing: "on-write events reached SyncEveryN"
	prefaultc chan struct{} // capacity 1, coalescing: "prefault up to prefaultTo"

	syncEveryN int64

	// Written by the writer goroutine only.
	handed     atomic.Uint64                 // flushes handed over, ever
	onWrite    atomic.Int64                  // events the writer published itself, ever
	prefaultTo atomic.Int64                  // how far to prefault the active segment
	active     atomic.Pointer[activeSegment] // the segment the writer appends to

	// Written by the fsync goroutine only.
	released atomic.Uint64 // flushes released (synced as needed, published, answered), ever
	synced   atomic.Int64  // onWrite as the last successful fsync of the active segment covered it
	// On-write flushes handed over while durable work was in flight are
	// published by the actor, without an fsync when nothing in their group
	// needed one: they wait for an fsync as the writer's own do.
	handedOnWrite atomic.Int64 // events the actor published without an fsync, ever
	handedSynced  atomic.Int64 // handedOnWrite as the last successful fsync of the active segment covered it
	syncing       atomic.Bool  // syncActive is between loading active and its fsync's end

	sealedMu sync.Mutex
	sealed   map[uint64]uint64 // guarded by sealedMu: segment id → handed when the writer sealed it
}

func newLink(done <-chan struct{}, syncEveryN int) *link {
	return &link{
		done:       done,
		flushc:     make(chan *flush, fsyncQueueLen),
		syncc:      make(chan struct{}, 1),
		prefaultc:  make(chan struct{}, 1),
		syncEveryN: int64(syncEveryN),
	}
}

// The writer's side. Call these on the writer goroutine only.

// writerPublishes reports whether the writer holds the right to publish:
// every flush it handed over has been released.
func (l *link) writerPublishes() bool { return l.handed.Load() == l.released.Load() }

// handOver passes a flush to the fsync actor, which owns it from then on.
// It blocks while the queue is full, until the actor takes the flush,
// stops for good (errFsyncStopped) or ctx ends; on an error the flush
// stays the caller's. ctx is nil for the writer's own flushes: it has no
// caller's context to give up on, and when Stop cancels the writer it
// still hands over what it drains — the actor, stopped after it, takes it.
func (l *link) handOver(ctx context.Context, fl *flush) error {
	l.handed.Add(1) // before the send: released never passes handed
	select {
	case l.flushc <- fl:
		return nil
	default:
	}
	var ctxDone <-chan struct{}
	if ctx != nil {
		ctxDone = ctx.Done()
	}
	select {
	case l.flushc <- fl:
		return nil
	case <-l.done:
		l.handed.Add(^uint64(0)) // never sent
		return errFsyncStopped
	case <-ctxDone:
		l.handed.Add(^uint64(0))
		return ctx.Err()
	}
}

// barrier hands the fsync actor an empty flush of seg and waits for its
// release: everything handed over before it is then released too (synced
// first, if durable). ctx may be nil (see handOver).
func (l *link) barrier(ctx context.Context, seg *activeSegment, durable bool) error {
	fl := flushPool.Get().(*flush)
	fl.seg, fl.durable = seg, durable
	released := make(chan struct{})
	fl.barrier = released
	if err := l.handOver(ctx, fl); err != nil {
		recycle(fl)
		return err
	}
	var ctxDone <-chan struct{}
	if ctx != nil {
		ctxDone = ctx.Done()
	}
	select {
	case <-released:
		return nil
	case <-l.done:
		return errFsyncStopped
	case <-ctxDone:
		return ctx.Err()
	}
}

// waitIdle waits until every flush handed over has been released (a
// restarted writer re-derives its state from the index only then).
func (l *link) waitIdle(ctx context.Context) error {
	if l.writerPublishes() {
		return nil
	}
	return l.barrier(ctx, nil, false)
}

// notePublished counts on-write events the writer published itself and
// kicks the fsync actor once SyncEveryN of them wait for an fsync.
func (l *link) notePublished(n int) {
	waiting := l.onWrite.Add(int64(n)) - l.synced.Load()
	if l.syncEveryN > 0 && waiting >= l.syncEveryN {
		select {
		case l.syncc <- struct{}{}:
		default: // a kick is pending: it covers these too
		}
	}
}

// prefault asks the fsync actor to fault the active segment's pages in up to to.
func (l *link) prefault(to int64) {
	l.prefaultTo.Store(to)
	select {
	case l.prefaultc <- struct{}{}:
	default: // a request is pending: it reads the newest target
	}
}

// noteSealed records a segment the writer has just sealed, whose flushes
// the fsync actor may still be syncing and noting.
func (l *link) noteSealed(seg *activeSegment) {
	l.sealedMu.Lock()
	defer l.sealedMu.Unlock()
	if l.sealed == nil {
		l.sealed = make(map[uint64]uint64)
	}
	l.sealed[seg.id] = l.handed.Load()
}

// The fsync actor's side. Call these on the fsync goroutine only.

// release counts a flush the actor is done with.
func (l *link) release() { l.released.Add(1) }

// Queries, from any goroutine.

// settled reports whether neither actor will touch segment id's file again
// (see Fsync.Settled).
func (l *link) settled(id uint64) bool {
	// syncing first, then active: if syncActive has not raised syncing by
	// the time it is read here, it will load active after this load does,
	// and so sync the segment seen here as active or a newer one.
	if l.syncing.Load() {
		return false
	}
	if a := l.active.Load(); a != nil && id >= a.id {
		return false
	}
	l.sealedMu.Lock()
	defer l.sealedMu.Unlock()
	if mark, ok := l.sealed[id]; ok {
		if l.released.Load() < mark {
			return false
		}
		delete(l.sealed, id)
	}
	return true
}

// inflight is the number of flushes handed over and not yet released.
func (l *link) inflight() int {
	released := l.released.Load() // first: it never passes handed
	return int(l.handed.Load() - released)
}

// unsynced is the number of on-write events published without an fsync
// covering them yet.
func (l *link) unsynced() int64 {
	synced := l.synced.Load() // first: it never passes onWrite
	return l.onWrite.Load() - synced + l.handedOnWrite.Load() - l.handedSynced.Load()
}
