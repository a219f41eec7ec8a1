package writer

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/batpak-go/batpak/actor"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/internal/instrument"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// Start describes the log's end as recovery found it.
type Start struct {
	SegmentID  uint64   // the last segment; 0 if the store is empty
	File       vfs.File // open read-write; nil if the store is empty
	End        int64    // valid bytes in it
	LastGlobal uint64
	LastID     event.ID
	LastPos    event.Position
	// Footer, if set, holds the footer the last segment had (its events):
	// the writer goes on adding to it, so the segment is sealed with a
	// footer again. Without it, a segment already holding events is
	// sealed without one.
	Footer *segment.FooterBuilder
}

// Writer is the writer actor: the shell around the core (core.go). Serve
// is its run loop; everything else it does runs on Serve's goroutine,
// except the accessors Mailbox and Failure.
type Writer struct {
	cfg  Config
	in   *actor.Mailbox[*Request]
	link *link
	fail *sticky

	// Owned by the Serve goroutine.
	core    core
	seg     *activeSegment
	safeEnd int64 // bytes of seg handed on; a restart cuts the rest off
	crashed bool  // Serve panicked; the next Serve re-derives its state
}

// New returns a writer and its fsync actor. done must close once both have
// stopped for good (Close, or escalation): neither waits on the other past
// it. cfg.Mailbox bounds the writer's mailbox (see docs/ARCHITECTURE.md,
// "Queues").
func New(cfg Config, start Start, done <-chan struct{}) (*Writer, *Fsync, error) {
	fail := &sticky{}
	if cfg.Metrics == nil {
		cfg.Metrics = instrument.NewSet()
	}
	l := newLink(done, cfg.SyncEveryN)
	w := &Writer{
		cfg:  cfg,
		in:   actor.NewMailbox[*Request](cfg.Mailbox, done),
		link: l,
		fail: fail,
	}
	if start.File == nil {
		f, err := CreateSegment(cfg.FS, cfg.Dir, 1, cfg.Clock().UnixNano())
		if err != nil {
			return nil, nil, err
		}
		cfg.OnSegment(1, f)
		start.SegmentID, start.File, start.End = 1, f, segment.HeaderSize
	}
	w.seg = openActive(start.SegmentID, start.File, start.End, cfg.SegmentSize)
	if f := start.Footer; f != nil && w.seg.footer == nil && f.End() <= start.End {
		w.seg.footer = f
	}
	w.safeEnd = start.End
	w.core = core{
		idx: cfg.Index, hashChain: cfg.HashChain, segSize: cfg.SegmentSize, clock: cfg.Clock,
		notify: cfg.OnPublish != nil, inject: cfg.Inject, fail: fail,
		log: logAccess{loadEvent: cfg.LoadEvent, readFrame: w.readFrame, beginsBatch: cfg.BeginsBatch, opener: cfg.Opener},
		st:  newState(start.LastGlobal, start.LastID, start.LastPos),
		seg: w.seg.id, end: w.seg.end,
	}
	// Imported ids need not increase: the log's last id may not be its
	// newest, and new ids must sort after every imported one.
	w.core.st.ids.Observe(cfg.Index.NewestUUIDv7())
	l.active.Store(w.seg)
	return w, newFsync(cfg, fail, l), nil
}

// Mailbox is where callers send requests.
func (w *Writer) Mailbox() *actor.Mailbox[*Request] { return w.in }

// Failure returns the sticky storage error, if any.
func (w *Writer) Failure() error { return w.fail.get() }

// Serve runs the writer until ctx is cancelled, then drains up to the
// drain limit, fails the rest with ErrShuttingDown and hands a final sync
// barrier to the fsync actor.
func (w *Writer) Serve(ctx context.Context) error {
	// A fault while copying into the mapped segment (an I/O error paging it
	// in) becomes a panic the supervisor handles, not a crash of the process.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	if w.crashed {
		if err := w.rederive(ctx); err != nil {
			return err
		}
	}
	w.crashed = true // cleared on a clean return; a panic leaves it set
	// Any request still in the writer's hands when Serve returns (only
	// after a panic) learns that nothing of it was written: a restart
	// cuts off whatever of it reached the file.
	defer w.core.answerOwned(ErrNotWritten)
	for {
		select {
		case r := <-w.in.C():
			w.core.drain = append(w.core.drain[:0], r)
			w.collect()
			w.cfg.Metrics.DrainRequests.Observe(uint64(len(w.core.drain)))
			w.process()
		case <-ctx.Done():
			w.shutdown()
			w.crashed = false
			return nil
		}
	}
}

// collect takes whatever else is queued, up to MaxDrain.
func (w *Writer) collect() {
	c := &w.core
	for len(c.drain) < w.cfg.MaxDrain {
		select {
		case r := <-w.in.C():
			c.drain = append(c.drain, r)
		default:
			return
		}
	}
}

// process handles the drain: the core turns it into flushes — one per
// segment it touches — and the shell writes and hands off each, rotating
// in between.
func (w *Writer) process() {
	c := &w.core
	c.next = 0
	if err := w.fail.get(); err != nil {
		c.failRest(err)
		c.endDrain()
		return
	}
	for {
		full := c.step()
		w.handOff()
		if !full {
			break
		}
		if err := w.fail.get(); err != nil {
			c.failRest(err)
			break
		}
		if err := w.rotate(); err != nil {
			w.fail.set(err)
			c.failRest(w.fail.get())
			break
		}
	}
	c.endDrain()
}

// handOff writes the core's frames with one call (or one copy into the
// mapped segment) and passes its flush on: to the fsync actor, or straight
// to publication for on-write work when the writer holds the right to
// publish (nothing is in flight; see link).
func (w *Writer) handOff() {
	c := &w.core
	if err := w.fail.get(); err != nil {
		c.dropFlush(err) // never write after a failure
		return
	}
	if len(c.buf) > 0 {
		if err := w.write(); err != nil {
			c.dropFlush(w.fail.get())
			return
		}
	}
	if len(c.cur.reqs) == 0 {
		recycle(c.handedOn())
		return
	}
	if err := w.inject(PointBeforeHandoff); err != nil {
		w.fail.set(err)
		c.dropFlush(w.fail.get())
		return
	}
	fl := c.handedOn()
	w.safeEnd = w.seg.end
	fl.seg = w.seg
	w.seg.noteFooter(fl.pend)
	if !fl.durable && w.link.writerPublishes() {
		w.link.notePublished(len(fl.pend)) // first: Unsynced never lags an acknowledged append
		publish(w.cfg.Index, w.cfg.OnPublish, fl)
		recycle(fl)
		return
	}
	if err := w.link.handOver(nil, fl); err != nil {
		w.fail.set(err)
		err = w.fail.get()
		for _, r := range fl.reqs {
			r.finish(err)
		}
		recycle(fl)
	}
}

// write raises the sequence reservation if the core says so, then writes
// the core's frames. A failure is sticky.
func (w *Writer) write() error {
	c := &w.core
	var err error
	if mark, needed := c.reservation(); needed {
		if err = writeReservation(w.cfg.FS, w.cfg.Dir, mark); err == nil {
			c.reserved(mark)
		}
	}
	if err == nil {
		err = w.inject(PointBeforeWrite)
	}
	if err == nil {
		err = w.seg.write(c.buf)
	}
	if err != nil {
		w.fail.set(err)
		return err
	}
	c.wrote(w.seg.end)
	if w.seg.m != nil && w.seg.end+prefaultAhead-w.seg.pfAsked >= prefaultAhead/4 {
		w.seg.pfAsked = w.seg.end + prefaultAhead
		w.link.prefault(w.seg.pfAsked)
	}
	return nil
}

func (w *Writer) inject(p Point) error {
	if w.cfg.Inject == nil {
		return nil
	}
	return w.cfg.Inject(p)
}

// rotate seals the active segment and starts the next one. The old segment
// is synced first: a segment is only ever followed by another once it is
// whole on disk, so recovery may treat damage in any but the last segment
// as corruption rather than a torn tail.
func (w *Writer) rotate() error {
	if err := w.inject(PointRotate); err != nil {
		return err
	}
	if err := w.seg.seal(); err != nil {
		return err
	}
	if err := w.seg.writeFooter(); err != nil {
		return err
	}
	w.seg.sealNote() // this fsync is the segment's last
	if err := syncSegmentFile(w.seg.file, w.cfg.SyncData, &w.cfg.Metrics.Fsync); err != nil {
		return err
	}
	w.link.noteSealed(w.seg) // before the next segment exists
	id := w.seg.id + 1
	if id > segment.MaxID {
		return fmt.Errorf("segment id %d exceeds the format's limit %d", id, segment.MaxID)
	}
	f, err := CreateSegment(w.cfg.FS, w.cfg.Dir, id, w.cfg.Clock().UnixNano())
	if err != nil {
		return err
	}
	w.cfg.OnSegment(id, f)
	w.seg = openActive(id, f, segment.HeaderSize, w.cfg.SegmentSize)
	w.safeEnd = w.seg.end // nothing of the new segment is handed on yet
	w.link.active.Store(w.seg)
	w.core.startSegment(id, w.seg.end)
	return nil
}

// readFrame reads bytes the writer wrote and handed on (for the core's
// idempotency checks): from the active segment, or one sealed since.
func (w *Writer) readFrame(seg uint64, p []byte, off int64) error {
	if seg == w.seg.id {
		return w.seg.readAt(p, off)
	}
	return w.cfg.ReadSegment(seg, p, off)
}

func (w *Writer) shutdown() {
	c := &w.core
	for n := 0; n < w.cfg.DrainLimit; {
		c.drain = c.drain[:0]
		w.collect()
		if len(c.drain) == 0 {
			break
		}
		if len(c.drain) > w.cfg.DrainLimit-n {
			for _, r := range c.drain[w.cfg.DrainLimit-n:] {
				r.finish(ErrShuttingDown)
			}
			c.drain = c.drain[:w.cfg.DrainLimit-n]
		}
		n += len(c.drain)
		w.process()
	}
	for {
		select {
		case r := <-w.in.C():
			r.finish(ErrShuttingDown)
			continue
		default:
		}
		break
	}
	if w.fail.get() == nil {
		// The fsync actor is stopped after the writer, so it takes this.
		if err := w.link.barrier(nil, w.seg, true); err != nil {
			w.fail.set(err)
		}
	}
	// The barrier's fsync may have failed: after that, never sync again
	// (found by the write-ordering auditor's I/O-error loop).
	if w.fail.get() == nil {
		// Trim the preallocated space so a closed store's files hold only
		// data, and record the exact end of the numbering: a clean restart
		// continues without a gap.
		// No footer here: the next writer appends to this segment, and
		// tools (and tests) expect a closed store's last segment to end in
		// its last record. It gets its footer when it is sealed by rotation.
		err := w.seg.seal()
		if err == nil {
			w.seg.sealNote() // the fsync actor notes nothing after this fsync
			err = syncSegmentFile(w.seg.file, w.cfg.SyncData, &w.cfg.Metrics.Fsync)
		}
		if err == nil && w.core.st.reserved > w.core.st.global {
			err = writeReservation(w.cfg.FS, w.cfg.Dir, w.core.st.global)
		}
		if err != nil {
			w.fail.set(err)
		}
	}
}

// rederive rebuilds the writer after a crash: wait until the fsync actor
// has published everything handed on, cut off bytes never handed on, and
// let the core forget what it cached (it reloads from the index).
func (w *Writer) rederive(ctx context.Context) error {
	if err := w.link.waitIdle(ctx); err != nil {
		return err
	}
	if err := w.seg.discardFrom(w.safeEnd); err != nil {
		w.fail.set(err)
		return err
	}
	w.core.rederive(w.cfg.Index.LastGlobal(), w.safeEnd)
	w.crashed = false
	return nil
}

// Tail returns the active segment and the end of its data. Call it only
// after Serve has returned for good (Close does, once the supervisor has
// joined the writer), when the writer no longer changes them.
func (w *Writer) Tail() (segmentID uint64, end int64) { return w.seg.id, w.seg.end }
