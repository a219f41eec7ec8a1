package writer

import (
	"errors"
	"sync"
	"time"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/segment"
)

// core is the writer's state machine: a plain single-threaded type with no
// goroutines, channels or files. It turns a drain of requests into frames
// (in buf), index entries, notifications and receipts, and makes the
// writer's decisions — whether a record fits the active segment, which
// global sequences must be reserved before the frames are written, what a
// restart forgets. Writer (writer.go) is the shell around it: it owns the
// mailbox, the segment files and the link to the fsync actor, and does the
// I/O the core asks for, in the order the core's results say. Tests drive
// the core directly (core_test.go).
//
// The core reads the log through the index and logAccess; it never writes
// anywhere but buf.
type core struct {
	// Fixed at construction.
	idx       *index.Index
	hashChain bool
	segSize   int64
	clock     func() time.Time
	notify    bool // build notifications (someone listens: Config.OnPublish)
	log       logAccess
	inject    func(Point) error // may be nil
	fail      *sticky

	st state

	// Where the next frame goes: segment seg, at end+len(buf). The shell
	// reports its writes (wrote) and rotations (startSegment).
	seg uint64
	end int64  // bytes of seg written
	buf []byte // frames encoded and not yet written

	// The requests the writer still owes an answer, so that a panic can
	// answer them (answerOwned): drain[next:] not yet processed, inHand
	// being processed, cur's requests accepted and not yet handed on.
	drain  []*Request
	next   int
	inHand *Request
	cur    *flush

	// Scratch of checkBatch, kept between batches (cleared, not remade).
	batchEntities map[string]batchEntity
}

// logAccess is how the core reads the log besides the index.
type logAccess struct {
	// loadEvent reads a published event (idempotent replays, an entity's
	// tail hash).
	loadEvent func(index.Entry) (*event.StoredEvent, error)
	// readFrame reads bytes this writer wrote and handed on, in segment
	// seg (the active one or one sealed since).
	readFrame func(seg uint64, p []byte, off int64) error
	// beginsBatch reports whether a published event opens a batch of
	// count events (see Config.BeginsBatch).
	beginsBatch func(e index.Entry, count int) (bool, error)
	// opener opens the sealed payload of a frame read back (nil: the store
	// does not encrypt).
	opener segment.Opener
}

var flushPool = sync.Pool{New: func() any { return new(flush) }}

// errUnknownOp answers a request no constructor made.
var errUnknownOp = errors.New("batpak: unknown writer request")

// step processes the drain's requests in turn, into c.cur, until the drain
// is done (false) or the next record does not fit the segment (true): the
// shell then writes and hands off c.cur, rotates, and steps again; the
// request that did not fit is processed again from the start in the next
// segment (its checks changed nothing).
func (c *core) step() (full bool) {
	if c.cur == nil {
		c.cur = flushPool.Get().(*flush)
	}
	for c.next < len(c.drain) {
		r := c.drain[c.next]
		c.next++
		c.inHand = r
		if !c.apply(r) {
			c.next--
			c.inHand = nil
			return true
		}
	}
	return false
}

// apply handles one request: it answers it, or accepts it into c.cur. It
// returns false, having done neither, if the request's record does not fit
// the active segment.
func (c *core) apply(r *Request) bool {
	switch r.op {
	case opAppend:
		return c.appendOne(r)
	case opBatch:
		return c.appendBatch(r)
	case opSync:
		c.accept(r)
		c.cur.durable = true
	case opReload:
		c.reload(&r.reload)
		c.answer(r, nil)
	default:
		c.answer(r, errUnknownOp)
	}
	return true
}

// fits reports whether size more bytes fit the active segment. A segment
// holds at least one record, however large.
func (c *core) fits(size int) bool {
	used := c.end + int64(len(c.buf))
	return used+int64(size) <= c.segSize || used == segment.HeaderSize
}

// reservation says whether the frames in buf need the global sequence
// reservation raised before they are written (contract C4, reserve.go),
// and to what mark. The shell writes the mark, then calls reserved.
func (c *core) reservation() (mark uint64, needed bool) {
	if c.st.global <= c.st.reserved {
		return 0, false
	}
	return c.st.global + reserveBlock, true
}

// reserved records a mark the shell made durable.
func (c *core) reserved(mark uint64) { c.st.reserved = mark }

// wrote records that the shell wrote buf to the segment, which now ends at end.
func (c *core) wrote(end int64) {
	c.buf = c.buf[:0]
	c.end = end
}

// startSegment records that the shell rotated to segment id, ending at end.
func (c *core) startSegment(id uint64, end int64) {
	c.seg, c.end = id, end
}

// handedOn gives c.cur up: from here a crash must neither answer its
// requests nor cut its bytes off (the shell has written them and hands the
// flush to the fsync actor or publishes it).
func (c *core) handedOn() *flush {
	fl := c.cur
	c.cur = nil
	return fl
}

// dropFlush answers c.cur's requests with err and drops it and any frames
// not yet written: nothing is written after a failure.
func (c *core) dropFlush(err error) {
	c.buf = c.buf[:0]
	if fl := c.cur; fl != nil {
		c.cur = nil
		for _, r := range fl.reqs {
			r.finish(err)
		}
		recycle(fl)
	}
}

// failRest answers the requests of the drain not yet processed with err (a
// failure stopped writes in the middle of the drain). A Reload still
// applies: forgetting is never wrong.
func (c *core) failRest(err error) {
	for _, r := range c.drain[c.next:] {
		if r.op == opReload {
			c.reload(&r.reload)
			r.finish(nil)
			continue
		}
		r.finish(err)
	}
	c.next = len(c.drain)
}

// endDrain closes a drain: every request has been answered or handed on.
func (c *core) endDrain() {
	clear(c.drain)
	c.drain, c.next = c.drain[:0], 0
	c.pruneKeys()
}

// answerOwned answers every request the writer still holds with err (the
// shell calls it when Serve returns, normally or by panic).
func (c *core) answerOwned(err error) {
	if c.inHand != nil {
		c.answer(c.inHand, err)
	}
	if c.cur != nil {
		for _, r := range c.cur.reqs {
			r.finish(err)
		}
		recycle(c.cur)
		c.cur = nil
	}
	for _, r := range c.drain[c.next:] {
		r.finish(err)
	}
	clear(c.drain)
	c.drain, c.next = c.drain[:0], 0
}

// rederive rebuilds the core after a crash, once everything handed on is
// published (lastPublished is then the index's last global) and the shell
// has cut the segment back to end: drop what was never written, forget
// tails and keys (they reload from the index), and never reuse a global
// sequence, even one assigned to a frame that was dropped.
func (c *core) rederive(lastPublished uint64, end int64) {
	c.buf = c.buf[:0]
	c.end = end
	c.st.tails = make(map[string]*tail)
	clear(c.st.keys)
	c.st.keyFIFO = c.st.keyFIFO[:0]
	c.st.global = max(c.st.global, lastPublished)
}

func recycle(fl *flush) {
	fl.reset()
	flushPool.Put(fl)
}

// answer replies to the request in hand.
func (c *core) answer(r *Request, err error) {
	c.inHand = nil
	r.finish(err)
}

// accept moves the request in hand into the flush being built; it is
// answered when the flush is released.
func (c *core) accept(r *Request) {
	c.inHand = nil
	c.cur.reqs = append(c.cur.reqs, r)
	c.cur.durable = c.cur.durable || r.durability != event.OnWrite
}

// failStop makes err sticky and returns the sticky error (the first one).
func (c *core) failStop(err error) error {
	c.fail.set(err)
	return c.fail.get()
}

// appendOne handles a single append.
func (c *core) appendOne(r *Request) bool {
	it := &r.items[0]
	if it.Import != nil {
		prev, found, err := c.importedSeen(it)
		if err != nil {
			c.answer(r, err)
			return true
		}
		if found {
			c.replay(r, prev)
			return true
		}
	}
	if key := it.Opts.IdempotencyKey; key != "" {
		prev, found, err := c.lookupKey(key)
		if err != nil {
			c.answer(r, err)
			return true
		}
		if found {
			if err := c.sameEvent(key, &prev, it); err != nil {
				c.answer(r, err)
				return true
			}
			c.replay(r, prev.receipt)
			return true
		}
	}
	t, err := c.loadTail(it.Coord.Entity())
	if err != nil {
		c.answer(r, err)
		return true
	}
	if it.Opts.ExpectSequence && it.Opts.ExpectedSequence != t.next {
		c.answer(r, &event.SequenceMismatchError{Entity: it.Coord.Entity(), Expected: it.Opts.ExpectedSequence, Actual: t.next})
		return true
	}
	if !c.fits(segment.EncodedEventSize(&segment.EventRecord{
		IdemKey: it.Opts.IdempotencyKey, Entity: it.Coord.Entity(), Scope: it.Coord.Scope(), Payload: it.Payload,
	})) {
		return false
	}
	r.Receipts = r.receiptSlice(1)
	c.stage(it, t, it.Opts.Causation, it.Opts.Correlation, segment.Marker{}, &r.Receipts[0])
	c.accept(r)
	return true
}

// replay answers r with an earlier receipt, released with this drain so a
// replay is never acknowledged before the original is.
func (c *core) replay(r *Request, prev ...event.Receipt) {
	r.Receipts = r.receiptSlice(len(prev))
	for i, p := range prev {
		p.Replayed = true
		r.Receipts[i] = p
	}
	c.accept(r)
}

// stage encodes one event into buf and records what publication needs.
// batch is the batch it belongs to (Count 0 for a single append).
func (c *core) stage(it *Item, t *tail, causation, correlation event.ID, batch segment.Marker, rcpt *event.Receipt) {
	c.st.global++
	id, us, wall, counter := c.stamp(it)
	if correlation.IsZero() {
		correlation = id
	}
	rec := segment.EventRecord{
		ID: id, Correlation: correlation, Causation: causation, Kind: it.Kind,
		Flags: it.Opts.Flags, Global: c.st.global, Sequence: t.next, Timestamp: us,
		WallMS: wall, Counter: counter, Codec: it.Codec, PayloadVersion: it.Version, Sealed: it.Sealed, IdemKey: it.Opts.IdempotencyKey,
		Entity: it.Coord.Entity(), Scope: it.Coord.Scope(), Payload: it.Payload,
	}
	off := c.end + int64(len(c.buf))
	var self [32]byte
	c.buf, self = segment.AppendEvent(c.buf, &rec, c.hashChain, t.hash)
	size := uint32(c.end + int64(len(c.buf)) - off)
	*rcpt = event.Receipt{
		ID: id, Coordinate: it.Coord, Kind: it.Kind, Global: rec.Global,
		Position: event.Position{WallMS: wall, Counter: counter}, Sequence: t.next,
		Timestamp: us, Correlation: correlation, Causation: causation, Hash: self,
	}
	c.cur.pend = append(c.cur.pend, index.Pending{
		ID: id, Entity: rec.Entity, Scope: rec.Scope, IdemKey: rec.IdemKey, Kind: it.Kind, Correlation: correlation,
		Causation: causation, Position: rcpt.Position, Global: rec.Global, Sequence: t.next, Segment: uint32(c.seg), Offset: uint32(off), Size: size,
	})
	if c.notify {
		c.cur.notes = append(c.cur.notes, event.Notification{
			ID: id, Correlation: correlation, Causation: causation, Coordinate: it.Coord,
			Kind: it.Kind, Global: rec.Global, Sequence: t.next,
		})
	}
	t.next++
	t.hash, t.global = self, rec.Global
	if rec.IdemKey != "" {
		c.rememberKey(rec.IdemKey, *rcpt, c.seg, off, size, batch)
	}
}

// reload applies a Reload (see its doc). Tails above Through belong to
// events appended after the compaction chose its segments: they are the
// entity's newest and stay.
func (c *core) reload(r *Reload) {
	for _, e := range r.Entities {
		if t, ok := c.st.tails[e]; ok && t.global <= r.Through {
			delete(c.st.tails, e)
		}
	}
	c.forgetKeysThrough(r.Through)
}

// pointErr runs the injection hook at p, if any; an error it returns is a
// storage failure and stops writes.
func (c *core) pointErr(p Point) error {
	if c.inject == nil {
		return nil
	}
	if err := c.inject(p); err != nil {
		return c.failStop(err)
	}
	return nil
}
