package subscriber

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/batpak-go/batpak/actor"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/vfs"
)

// Log is the store as subscriptions and cursors read it: the index of
// visible events and a way to load the events of index entries.
type Log struct {
	Index *index.Index
	// Load reads the events es point at into dst (len(dst) == len(es)), on
	// the caller's goroutine. It must be safe for concurrent use. An error
	// wrapping ErrStale says an entry's event left the log after the
	// entries were taken (compaction dropped it): a cursor then takes
	// fresh entries from Index and loads again.
	Load func(es []index.Entry, dst []*event.StoredEvent) error
	// Batch says how the visible event with global sequence g was
	// appended: the Span of its atomic batch, or, for an event appended
	// alone, a Span of events appended alone that ends at g. known is the
	// caller's previous answer (zero at first): Batch may answer from it
	// when g's run of events appended alone reaches back into it. It must
	// be safe for concurrent use. nil means every event was appended
	// alone (cursors then have no batch to keep whole).
	Batch func(g uint64, known Span) (Span, error)
}

// Span is a stretch of the log, by global sequence, as Log.Batch reports
// it: one atomic batch (Atomic), or events each appended alone.
type Span struct {
	First, Last uint64
	Atomic      bool
}

// holds reports whether g lies in the span.
func (sp Span) holds(g uint64) bool { return sp.First <= g && g <= sp.Last }

// Options configures a Hub.
type Options struct {
	Log Log
	// Done is closed when the store has stopped for good: after Close, or
	// once a failure stopped its writer. Waiters stop waiting then.
	Done <-chan struct{}
	// Closed returns non-nil once the store is closed; every call then
	// returns that error (the store's ErrClosed). nil means "never closed".
	Closed func() error
	// Stopped returns the error a waiter gets once Done is closed. nil means
	// ErrClosed.
	Stopped func() error
	// Guard runs fn unless the store is closed, and keeps the store from
	// finishing Close while fn runs (durable cursors write their files in
	// it). nil runs fn directly.
	Guard func(fn func() error) error
	// FS and Dir locate durable cursor files: Dir/<name>. Needed only for
	// OpenCursor.
	FS  vfs.FS
	Dir string
	// CacheEvents bounds the events kept decoded for cursors to share
	// (default DefaultCacheEvents; negative: no sharing).
	CacheEvents int
	// Mailbox is the fan-out actor's mailbox capacity, in publications
	// (default 256). When it is full, publications are read back from the
	// index instead; nothing is lost.
	Mailbox int
}

// DefaultMailbox is the fan-out mailbox capacity when Options.Mailbox is 0.
const DefaultMailbox = 256

// Hub is the subscription side of a store: it owns the fan-out actor (see
// Fanout), the table of lossy subscriptions and the wake-up signal that
// blocked cursors wait on. Its methods are safe for concurrent use.
type Hub struct {
	opts  Options
	fan   *Fanout
	cache *eventCache // nil: cursors read on their own

	// frontier is the highest global sequence the fan-out has processed.
	frontier atomic.Uint64
	// dirty says added or removed is non-empty.
	dirty atomic.Bool
	// lossy counts open lossy subscriptions.
	lossy atomic.Int64

	mu      sync.Mutex
	waitc   chan struct{}   // guarded by mu; closed and replaced when the fan-out advances
	waited  bool            // guarded by mu; someone holds waitc
	added   []*Lossy        // guarded by mu; not yet in the fan-out's table
	removed []*Lossy        // guarded by mu; closed by their owner, still in the table
	named   map[string]bool // guarded by mu; open durable cursors
	made    []*Lossy        // guarded by mu; every lossy subscription opened (LossyTotals)
	stopped bool            // guarded by mu; Close has run: no fan-out any more
	stopc   chan struct{}   // closed by Close
	pumps   actor.Group     // the goroutines feeding Lossy.C channels

	// onWait, if set, runs each time a caller takes the wake-up channel
	// (tests use it to know a cursor is about to block).
	onWait func()
}

// New returns a hub and its fan-out actor (Fanout), which the store runs
// under its supervisor and feeds with Publish.
func New(opts Options) *Hub {
	if opts.Mailbox <= 0 {
		opts.Mailbox = DefaultMailbox
	}
	if opts.Closed == nil {
		opts.Closed = func() error { return nil }
	}
	if opts.Stopped == nil {
		opts.Stopped = func() error { return ErrClosed }
	}
	if opts.Guard == nil {
		opts.Guard = func(fn func() error) error { return fn() }
	}
	h := &Hub{
		opts:  opts,
		cache: newEventCache(opts.CacheEvents),
		waitc: make(chan struct{}),
		stopc: make(chan struct{}),
		named: make(map[string]bool),
	}
	h.fan = newFanout(h)
	return h
}

// Fanout returns the hub's fan-out actor.
func (h *Hub) Fanout() *Fanout { return h.fan }

// Publish hands newly visible events to the fan-out actor. It is the
// writer's OnPublish hook: it never blocks and copies notes.
func (h *Hub) Publish(notes []event.Notification) { h.fan.Publish(notes) }

// Invalidate empties the cursors' shared cache of decoded events. The
// store calls it when what reading an event returns has changed for
// events already read: a Shred (their payloads are gone), a compaction's
// tombstones.
func (h *Hub) Invalidate() { h.cache.purge() }

// Frontier is the highest global sequence the fan-out actor has delivered
// to every lossy subscription (and woken cursors for).
func (h *Hub) Frontier() uint64 { return h.frontier.Load() }

// Close ends every lossy subscription and every wait, and joins the
// goroutines feeding C channels. Call it once the fan-out actor has
// stopped for good, after Done is closed; buffered notifications stay
// readable with Recv.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return
	}
	h.stopped = true
	h.added, h.removed = nil, nil
	h.mu.Unlock()
	close(h.stopc)
	h.pumps.Close()
}

// wait returns a channel closed the next time the fan-out advances.
// Take it before looking at the index, so nothing published after the
// look can be missed.
func (h *Hub) wait() <-chan struct{} {
	h.mu.Lock()
	h.waited = true
	c := h.waitc
	h.mu.Unlock()
	if h.onWait != nil {
		h.onWait()
	}
	return c
}

// advance records the fan-out's new frontier and wakes every waiter.
func (h *Hub) advance(global uint64) {
	if global > h.frontier.Load() {
		h.frontier.Store(global)
	}
	h.mu.Lock()
	if h.waited {
		close(h.waitc)
		h.waitc = make(chan struct{})
		h.waited = false
	}
	h.mu.Unlock()
}

// closed returns the store's closed error, or nil.
func (h *Hub) closed() error { return h.opts.Closed() }

// block waits for c, ctx, the store's end or own (a subscription's or
// cursor's close channel; may be nil).
func (h *Hub) block(ctx context.Context, c <-chan struct{}, own <-chan struct{}) error {
	select {
	case <-c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-own:
		return ErrClosed
	case <-h.opts.Done:
		if err := h.opts.Closed(); err != nil {
			return err
		}
		return h.opts.Stopped()
	}
}

// WaitVisible blocks until the event with global sequence pos (and every
// event before it) is visible to readers and cursors — in Durable mode,
// durable — or ctx ends. It is read-your-writes for a position learnt
// elsewhere (a receipt handed over from another goroutine, a cursor
// position): once it returns, queries and cursors see pos.
func (h *Hub) WaitVisible(ctx context.Context, pos uint64) error {
	for {
		if err := h.closed(); err != nil {
			return err
		}
		c := h.wait()
		if h.opts.Log.Index.LastGlobal() >= pos {
			return nil
		}
		if err := h.block(ctx, c, nil); err != nil {
			return err
		}
	}
}

// take moves the subscriptions added and removed since the last call into
// t; the fan-out calls it when dirty is set.
func (h *Hub) take(t *table) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dirty.Store(false)
	for _, l := range h.added {
		t.add(l)
	}
	for _, l := range h.removed {
		t.remove(l)
	}
	clear(h.added)
	clear(h.removed)
	h.added, h.removed = h.added[:0], h.removed[:0]
}
