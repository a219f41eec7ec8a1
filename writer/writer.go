package writer

import (
	"context"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/batpak-go/batpak/actor"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
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

// Writer is the writer actor. Its methods other than Serve, Quiesce and
// the accessors run on its own goroutine only.
type Writer struct {
	cfg   Config
	in    *actor.Mailbox[*Request]
	fsync *Fsync
	fail  *sticky

	// Owned by the Serve goroutine.
	st      state
	seg     *activeSegment
	buf     []byte
	drain   []*Request
	next    int      // drain[next:] are not yet processed
	cur     *flush   // being filled; its requests are still the writer's
	inHand  *Request // being processed: in neither drain[next:] nor cur
	safeEnd int64    // bytes of seg handed on; a restart truncates to it
	crashed bool     // Serve panicked; the next Serve re-derives its state

	quiesced atomic.Bool
}

var flushPool = sync.Pool{New: func() any { return new(flush) }}

// New returns a writer and its fsync actor. done must close once both have
// stopped for good (callers stop waiting then).
func New(cfg Config, start Start, done <-chan struct{}, mailbox int) (*Writer, *Fsync, error) {
	fail := &sticky{}
	w := &Writer{
		cfg:  cfg,
		in:   actor.NewMailbox[*Request](mailbox, done),
		fail: fail,
		st:   newState(start.LastGlobal, start.LastID, start.LastPos),
	}
	w.fsync = newFsync(cfg, fail, done)
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
	w.fsync.active.Store(w.seg)
	return w, w.fsync, nil
}

// Mailbox is where callers send requests.
func (w *Writer) Mailbox() *actor.Mailbox[*Request] { return w.in }

// Failure returns the sticky storage error, if any.
func (w *Writer) Failure() error { return w.fail.get() }

// Quiesce is called by the supervisor before shutdown.
func (w *Writer) Quiesce() { w.quiesced.Store(true) }

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
	defer w.answerOwned()
	for {
		select {
		case r := <-w.in.C():
			w.drain = append(w.drain[:0], r)
			w.collect()
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
	for len(w.drain) < w.cfg.MaxDrain {
		select {
		case r := <-w.in.C():
			w.drain = append(w.drain, r)
		default:
			return
		}
	}
}

func (w *Writer) shutdown() {
	for n := 0; n < w.cfg.DrainLimit; {
		w.drain = w.drain[:0]
		w.collect()
		if len(w.drain) == 0 {
			break
		}
		if len(w.drain) > w.cfg.DrainLimit-n {
			for _, r := range w.drain[w.cfg.DrainLimit-n:] {
				r.finish(ErrShuttingDown)
			}
			w.drain = w.drain[:w.cfg.DrainLimit-n]
		}
		n += len(w.drain)
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
		w.fsync.barrier(w.seg)
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
			err = w.seg.file.Sync()
		}
		if err == nil && w.st.reserved > w.st.global {
			err = writeReservation(w.cfg.FS, w.cfg.Dir, w.st.global)
		}
		if err != nil {
			w.fail.set(err)
		}
	}
}

// answerOwned runs when Serve returns, normally or by panic: any request
// still in the writer's hands gets ErrNotWritten (a restart truncates
// whatever of it reached the file).
func (w *Writer) answerOwned() {
	if w.inHand != nil {
		w.answer(w.inHand, ErrNotWritten)
	}
	if w.cur != nil {
		for _, r := range w.cur.reqs {
			r.finish(ErrNotWritten)
		}
		w.cur.reset(nil)
		w.cur = nil
	}
	for _, r := range w.drain[w.next:] {
		r.finish(ErrNotWritten)
	}
	w.drain, w.next = w.drain[:0], 0
}

// rederive rebuilds the writer's state after a crash: wait until the fsync
// actor has published everything handed on, cut off bytes never handed on,
// and let tails and keys reload from the index.
func (w *Writer) rederive(ctx context.Context) error {
	if err := w.fsync.waitIdle(ctx); err != nil {
		return err
	}
	if err := w.seg.discardFrom(w.safeEnd); err != nil {
		w.fail.set(err)
		return err
	}
	w.buf = w.buf[:0]
	last := w.st.global
	w.st.tails = make(map[string]*tail)
	clear(w.st.keys)
	w.st.keyFIFO = w.st.keyFIFO[:0]
	w.st.global = max(last, w.cfg.Index.LastGlobal()) // never reuse a global sequence
	w.crashed = false
	return nil
}

func (w *Writer) inject(p Point) error {
	if w.cfg.Inject == nil {
		return nil
	}
	return w.cfg.Inject(p)
}

// process handles w.drain: each request in turn, one write per segment.
func (w *Writer) process() {
	w.next = 0
	if err := w.fail.get(); err != nil {
		for _, r := range w.drain {
			r.finish(err)
		}
		w.drain = w.drain[:0]
		return
	}
	w.cur = w.newFlush()
	for w.next < len(w.drain) {
		r := w.drain[w.next]
		w.next++
		w.inHand = r
		switch {
		case r.Reload != nil:
			w.reload(r.Reload)
			w.answer(r, nil)
		case len(r.Items) == 0: // sync barrier
			w.accept(r)
			w.cur.durable = true
		case r.Atomic:
			w.appendBatch(r)
		default:
			w.appendOne(r)
		}
	}
	w.handOff()
	w.drain = w.drain[:0]
	w.next = 0
	w.pruneKeys()
}

func (w *Writer) newFlush() *flush {
	f := flushPool.Get().(*flush)
	f.reset(w.seg)
	return f
}

// room makes sure size more bytes fit the active segment, rotating if not
// (a segment holds at least one record, however large).
func (w *Writer) room(size int) error {
	used := w.seg.end + int64(len(w.buf))
	if used+int64(size) <= w.cfg.SegmentSize || used == segment.HeaderSize {
		return nil
	}
	w.handOff()
	w.cur = w.newFlush() // later requests of the drain still need one
	if err := w.fail.get(); err != nil {
		return err
	}
	if err := w.rotate(); err != nil {
		w.fail.set(err)
		return w.fail.get()
	}
	w.cur.seg = w.seg
	return nil
}

// handOff writes the buffered frames with one call (or one copy into the
// mapped segment) and passes w.cur on: to the fsync actor, or straight to
// publication for on-write work when nothing durable is in flight. w.cur
// is nil afterwards.
func (w *Writer) handOff() {
	fl := w.cur
	if err := w.fail.get(); err != nil {
		w.buf = w.buf[:0] // never write after a failure
		w.failFlush(fl, err)
		return
	}
	if len(w.buf) > 0 {
		err := w.inject(PointBeforeWrite)
		if err == nil {
			err = w.seg.write(w.buf)
		}
		if err != nil {
			w.fail.set(err)
			w.failFlush(fl, w.fail.get())
			return
		}
		w.buf = w.buf[:0]
		if w.seg.m != nil && w.seg.end+prefaultAhead-w.seg.pfAsked >= prefaultAhead/4 {
			w.seg.pfAsked = w.seg.end + prefaultAhead
			w.fsync.prefault(w.seg.pfAsked)
		}
	}
	if len(fl.reqs) == 0 {
		w.cur = nil
		flushPool.Put(fl)
		return
	}
	if err := w.inject(PointBeforeHandoff); err != nil {
		w.fail.set(err)
		w.failFlush(fl, w.fail.get())
		return
	}
	// From here the flush is no longer the writer's: a crash must neither
	// answer its requests nor cut its bytes off.
	w.cur, w.safeEnd = nil, w.seg.end
	w.seg.noteFooter(fl.pend)
	if fl.durable || w.fsync.inflight.Load() > 0 {
		w.fsync.handOver(fl) // bounded: a slow disk holds the writer back
	} else {
		w.fsync.publish(fl)
		w.fsync.noteUnsynced(len(fl.pend))
		fl.reset(nil)
		flushPool.Put(fl)
	}
}

// failFlush answers a flush's requests with err and drops it.
func (w *Writer) failFlush(fl *flush, err error) {
	for _, r := range fl.reqs {
		r.finish(err)
	}
	fl.reset(nil)
	flushPool.Put(fl)
	w.cur = nil
}

// now returns the clock in milliseconds and microseconds.
func (w *Writer) now() (ms, us int64) {
	t := w.cfg.Clock()
	return t.UnixMilli(), t.UnixMicro()
}

// stage encodes one event into the buffer and records what publication needs.
// batch is the batch it belongs to (Count 0 for a single append).
func (w *Writer) stage(it *Item, t *tail, causation, correlation event.ID, batch segment.Marker, rcpt *event.Receipt) {
	ms, us := w.now()
	w.st.global++
	wall, counter := w.st.hlc.Tick(ms)
	id := w.st.ids.Next(ms)
	if correlation.IsZero() {
		correlation = id
	}
	rec := segment.EventRecord{
		ID: id, Correlation: correlation, Causation: causation, Kind: it.Kind,
		Flags: it.Opts.Flags, Global: w.st.global, Sequence: t.next, Timestamp: us,
		WallMS: wall, Counter: counter, Codec: it.Codec, IdemKey: it.Opts.IdempotencyKey,
		Entity: it.Coord.Entity(), Scope: it.Coord.Scope(), Payload: it.Payload,
	}
	off := w.seg.end + int64(len(w.buf))
	var self [32]byte
	w.buf, self = segment.AppendEvent(w.buf, &rec, w.cfg.HashChain, t.hash)
	size := uint32(w.seg.end + int64(len(w.buf)) - off)
	*rcpt = event.Receipt{
		ID: id, Coordinate: it.Coord, Kind: it.Kind, Global: rec.Global,
		Position:  event.Position{WallMS: wall, Counter: counter, Sequence: t.next},
		Timestamp: us, Correlation: correlation, Causation: causation, Hash: self,
	}
	w.cur.pend = append(w.cur.pend, index.Pending{
		ID: id, Entity: rec.Entity, Scope: rec.Scope, IdemKey: rec.IdemKey, Kind: it.Kind, Correlation: correlation,
		Global: rec.Global, Sequence: t.next, Segment: uint32(w.seg.id), Offset: uint32(off), Size: size,
	})
	if w.cfg.OnPublish != nil {
		w.cur.notes = append(w.cur.notes, event.Notification{
			ID: id, Correlation: correlation, Causation: causation, Coordinate: it.Coord,
			Kind: it.Kind, Global: rec.Global, Sequence: t.next,
		})
	}
	t.next++
	t.hash, t.global = self, rec.Global
	if rec.IdemKey != "" {
		w.rememberKey(rec.IdemKey, *rcpt, w.seg.id, off, size, batch)
	}
}

// answer replies to the request in hand.
func (w *Writer) answer(r *Request, err error) {
	w.inHand = nil
	r.finish(err)
}

// accept moves the request in hand into the flush being built; it is
// answered when the flush is released.
func (w *Writer) accept(r *Request) {
	w.inHand = nil
	w.cur.reqs = append(w.cur.reqs, r)
	w.cur.durable = w.cur.durable || r.Durability != event.OnWrite
}

// appendOne handles a single append.
func (w *Writer) appendOne(r *Request) {
	it := &r.Items[0]
	if key := it.Opts.IdempotencyKey; key != "" {
		prev, found, err := w.lookupKey(key)
		if err != nil {
			w.answer(r, err)
			return
		}
		if found {
			if err := w.sameEvent(key, &prev, it); err != nil {
				w.answer(r, err)
				return
			}
			w.replay(r, prev.receipt)
			return
		}
	}
	t, err := w.loadTail(it.Coord.Entity())
	if err == nil {
		err = w.reserve(1)
	}
	if err != nil {
		w.answer(r, err)
		return
	}
	if it.Opts.ExpectSequence && it.Opts.ExpectedSequence != t.next {
		w.answer(r, &SequenceMismatchError{Entity: it.Coord.Entity(), Expected: it.Opts.ExpectedSequence, Actual: t.next})
		return
	}
	if err := w.room(segment.EncodedEventSize(&segment.EventRecord{
		IdemKey: it.Opts.IdempotencyKey, Entity: it.Coord.Entity(), Scope: it.Coord.Scope(), Payload: it.Payload,
	})); err != nil {
		w.answer(r, err)
		return
	}
	r.Receipts = r.receiptSlice(1)
	w.stage(it, t, it.Opts.Causation, it.Opts.Correlation, segment.Marker{}, &r.Receipts[0])
	w.accept(r)
}

// replay answers r with an earlier receipt, released with this drain so a
// replay is never acknowledged before the original is.
func (w *Writer) replay(r *Request, prev ...event.Receipt) {
	r.Receipts = r.receiptSlice(len(prev))
	for i, p := range prev {
		p.Replayed = true
		r.Receipts[i] = p
	}
	w.accept(r)
}

// Tail returns the active segment and the end of its data. Call it only
// after Serve has returned for good (Close does, once the supervisor has
// joined the writer), when the writer no longer changes them.
func (w *Writer) Tail() (segmentID uint64, end int64) { return w.seg.id, w.seg.end }
