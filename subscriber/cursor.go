package subscriber

import (
	"context"
	"errors"
	"iter"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
)

// prefetch is how many events Next reads ahead with one index query.
const prefetch = 256

// DefaultBatch is the batch size NextBatch uses for max <= 0.
const DefaultBatch = 256

// Cursor is a pull subscription with guaranteed delivery: it reads the
// events of its region from the store, in global order, after a position,
// on the caller's goroutine. Every matching visible event is delivered
// exactly once, with no gaps, whatever the writer and the fan-out actor do;
// when it has caught up, Next blocks until the fan-out actor reports a new
// visible event (no polling).
//
// An atomic batch becomes visible all at once, so a cursor never waits in
// the middle of one: once its first event is returned, the rest are
// available. NextBatch never splits one across calls (see NextBatch), and
// the cursor reads ahead to the end of a batch, never into its middle.
//
// Position is the global sequence of the last event returned; a cursor
// opened at that position resumes right after it. Calls are serialised: a
// Cursor is for one consumer, but may be passed between goroutines.
type Cursor struct {
	hub    *Hub
	region event.Region

	sem       chan struct{} // held by the running Next/NextBatch
	ownc      chan struct{} // closed by Close
	closed    atomic.Bool
	closeOnce sync.Once
	pos       atomic.Uint64 // global sequence of the last event returned

	// Owned by the holder of sem.
	read    uint64 // every event at or below it is buffered, returned or not in the region
	buf     []*event.StoredEvent
	head    int // buf[head:] are not yet returned
	entries []index.Entry
	span    Span // the last answer of Log.Batch
}

// Cursor opens a cursor on region that delivers the events with a global
// sequence above from (0: from the first event).
func (h *Hub) Cursor(region event.Region, from uint64) (*Cursor, error) {
	if err := h.closed(); err != nil {
		return nil, err
	}
	return newCursor(h, region, from), nil
}

func newCursor(h *Hub, region event.Region, from uint64) *Cursor {
	c := &Cursor{
		hub:    h,
		region: region,
		sem:    make(chan struct{}, 1),
		ownc:   make(chan struct{}),
		read:   from,
	}
	c.pos.Store(from)
	return c
}

// Region is the region the cursor reads.
func (c *Cursor) Region() event.Region { return c.region }

// Position is the global sequence of the last event returned (or the
// starting position if none has been). Save it to resume later.
func (c *Cursor) Position() uint64 { return c.pos.Load() }

// Next returns the next event of the region. If one is visible it returns
// it at once, even if ctx has ended; otherwise it waits until one is, ctx
// ends, or the cursor (ErrClosed) or the store (the store's ErrClosed) is
// closed. A read error is returned as it is, and the same event is tried
// again by the next call.
func (c *Cursor) Next(ctx context.Context) (*event.StoredEvent, error) {
	if err := c.acquire(ctx); err != nil {
		return nil, err
	}
	defer c.release()
	if c.head == len(c.buf) {
		if err := c.await(ctx, prefetch); err != nil {
			return nil, err
		}
	}
	ev := c.buf[c.head]
	c.buf[c.head] = nil
	c.head++
	c.pos.Store(ev.Global)
	return ev, nil
}

// NextBatch returns the next events of the region, in global order:
// whatever is visible, up to max (max <= 0 means DefaultBatch), waiting as
// Next does only while nothing is.
//
// It never splits an atomic batch: the region's events of a batch come in
// one call. A call that would end inside a batch ends before it instead;
// only a batch that starts the call and alone has more than max events in
// the region makes a call return more than max (the whole batch, bounded
// by the store's batch limit). So a consumer that applies each call's
// events together — a live projection — never shows part of a batch.
func (c *Cursor) NextBatch(ctx context.Context, max int) ([]*event.StoredEvent, error) {
	if max <= 0 {
		max = DefaultBatch
	}
	if err := c.acquire(ctx); err != nil {
		return nil, err
	}
	defer c.release()
	if n := len(c.buf) - c.head; n == 0 {
		if err := c.await(ctx, max); err != nil {
			return nil, err
		}
	} else if n < max {
		// Top up with whatever else is visible; an error will resurface on
		// the next call, so return what is buffered now.
		_, _ = c.fill(max - n)
	}
	n := min(max, len(c.buf)-c.head)
	if n < len(c.buf)-c.head {
		var err error
		if n, err = c.cut(n); err != nil {
			return nil, err // the events stay buffered for the next call
		}
	}
	out := make([]*event.StoredEvent, n)
	copy(out, c.buf[c.head:c.head+n])
	clear(c.buf[c.head : c.head+n])
	c.head += n
	c.pos.Store(out[n-1].Global)
	return out, nil
}

// All yields the region's events one by one, history first and then live
// as they become visible, with no gap and no duplicate between the two:
// the catch-up subscription. It ends with the error that stopped it (ctx
// ending, Close, the store closing) yielded last, or when the loop
// breaks; Position is then the last event yielded.
func (c *Cursor) All(ctx context.Context) iter.Seq2[*event.StoredEvent, error] {
	return func(yield func(*event.StoredEvent, error) bool) {
		for {
			ev, err := c.Next(ctx)
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(ev, nil) {
				return
			}
		}
	}
}

// Close ends the cursor: a waiting Next returns ErrClosed, as does every
// later call. It is idempotent.
func (c *Cursor) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		close(c.ownc)
	})
	return nil
}

func (c *Cursor) acquire(ctx context.Context) error {
	select {
	case c.sem <- struct{}{}:
	default:
		select {
		case c.sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		case <-c.ownc:
			return ErrClosed
		}
	}
	if c.closed.Load() {
		<-c.sem
		return ErrClosed
	}
	if err := c.hub.closed(); err != nil {
		<-c.sem
		return err
	}
	return nil
}

func (c *Cursor) release() { <-c.sem }

// cut moves the end of a call returning the first n buffered events (of
// more) off the inside of an atomic batch: back to just before the batch,
// or, when the batch starts the call, on to its end — buffered, since fill
// always reads to the end of a batch.
func (c *Cursor) cut(n int) (int, error) {
	evs := c.buf[c.head:]
	sp, err := c.batchOf(evs[n-1].Global)
	if err != nil || !sp.Atomic || evs[n].Global > sp.Last {
		return n, err
	}
	k := n - 1
	for k > 0 && evs[k-1].Global >= sp.First {
		k--
	}
	if k > 0 {
		return k, nil
	}
	for n < len(evs) && evs[n].Global <= sp.Last {
		n++
	}
	return n, nil
}

// batchOf returns the span of the log holding global sequence g: its
// atomic batch, or events appended alone. Consecutive questions mostly
// fall in the same span, which is kept.
func (c *Cursor) batchOf(g uint64) (Span, error) {
	if c.span.holds(g) {
		return c.span, nil
	}
	batch := c.hub.opts.Log.Batch
	if batch == nil {
		return Span{First: g, Last: g}, nil
	}
	sp, err := batch(g, c.span)
	if err != nil {
		return Span{}, err
	}
	c.span = sp
	return sp, nil
}

// await fills the buffer with up to limit events, waiting for the fan-out
// actor's wake-up while there are none.
func (c *Cursor) await(ctx context.Context, limit int) error {
	for {
		if n, err := c.fill(limit); err != nil || n > 0 {
			return err
		}
		// Take the wake-up channel before looking again: an event published
		// after this look closes it.
		w := c.hub.wait()
		if n, err := c.fill(limit); err != nil || n > 0 {
			return err
		}
		if err := c.hub.block(ctx, w, c.ownc); err != nil {
			return err
		}
	}
}

// fill reads up to limit more events after c.read into the buffer and
// returns how many it read. It reads on past limit to the end of an atomic
// batch the limit falls in, so the buffer always ends between batches.
func (c *Cursor) fill(limit int) (int, error) {
	// Entries outdated by a compaction between the query and the load are
	// taken again; each retry needs another compaction in that window.
	for range 4 {
		n, err := c.fillOnce(limit)
		if !errors.Is(err, ErrStale) {
			return n, err
		}
	}
	return c.fillOnce(limit)
}

func (c *Cursor) fillOnce(limit int) (int, error) {
	x := c.hub.opts.Log.Index
	// Everything at or below hi is in the snapshot the query takes next.
	hi := x.LastGlobal()
	if hi <= c.read {
		return 0, nil
	}
	c.entries = c.entries[:0]
	var (
		whole = true // the query ran through its whole snapshot
		end   uint64 // once limit entries are taken: the last global to take
		err   error
	)
	for e := range x.Query(c.region, c.read) {
		if len(c.entries) >= limit {
			if end == 0 {
				var sp Span
				if sp, err = c.batchOf(c.entries[len(c.entries)-1].Global); err != nil {
					break
				}
				end = c.entries[len(c.entries)-1].Global
				if sp.Atomic {
					end = sp.Last
				}
			}
			if e.Global > end {
				whole = false
				break
			}
		}
		c.entries = append(c.entries, e)
	}
	if err != nil {
		return 0, err
	}
	k := len(c.entries)
	if k == 0 {
		c.read = hi
		return 0, nil
	}
	if c.head == len(c.buf) {
		clear(c.buf)
		c.buf, c.head = c.buf[:0], 0
	}
	n := len(c.buf)
	c.buf = slices.Grow(c.buf, k)[:n+k]
	if err := c.hub.cache.load(c.hub.opts.Log, c.entries, c.buf[n:]); err != nil {
		clear(c.buf[n:])
		c.buf = c.buf[:n]
		return 0, err
	}
	c.read = c.entries[k-1].Global
	if whole {
		c.read = max(c.read, hi)
	}
	return k, nil
}
