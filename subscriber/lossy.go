package subscriber

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/batpak-go/batpak/event"
)

// MaxCapacity bounds a lossy subscription's buffer.
const MaxCapacity = 1 << 24

// Lossy is a push subscription: the fan-out actor buffers a Notification
// for each matching event as the event becomes visible. When capacity
// notifications are buffered, further ones are dropped and counted
// (Dropped): a slow or abandoned subscriber never slows the writer or the
// other subscribers. For guaranteed delivery use a Cursor.
//
// The buffer holds references into the publications the fan-out actor
// shares among all subscriptions, so it costs memory for what is buffered,
// not for its capacity, and the actor's work per publication does not grow
// with its size. Receive with Recv (the fast path) or range over C. Close
// ends the subscription; closing the store ends it too. A Lossy is safe for
// concurrent use.
type Lossy struct {
	hub      *Hub
	region   event.Region
	all      bool // region matches every event
	anyScope bool // region, its scope rule aside, matches every event
	capacity int

	mu     sync.Mutex
	q      []span // guarded by mu; q[head:] are buffered, oldest first
	head   int    // guarded by mu
	n      int    // guarded by mu; notifications buffered
	readyc chan struct{}

	dropped atomic.Uint64
	closed  atomic.Bool // closed by its owner
	ownc    chan struct{}

	pumpOnce sync.Once
	c        chan event.Notification // made by the first C call

	last uint64 // owned by the fan-out: the highest global offered
	seq  uint64 // owned by the fan-out: its age in the table (table.add)
	pend []span // owned by the fan-out: this delivery's matches (table.matchScoped)
	want int    // owned by the fan-out: the notifications in pend
}

// span is a run of notifications of a shared publication: b.notes[lo:hi].
type span struct {
	b      *noteBatch
	lo, hi int
}

// SubscribeLossy subscribes to the notifications of events in region that
// become visible after it returns, buffering up to capacity of them
// (1 to MaxCapacity).
func (h *Hub) SubscribeLossy(region event.Region, capacity int) (*Lossy, error) {
	if capacity < 1 || capacity > MaxCapacity {
		return nil, fmt.Errorf("%w: %d outside 1–%d", ErrInvalidCapacity, capacity, MaxCapacity)
	}
	if err := h.closed(); err != nil {
		return nil, err
	}
	l := newLossy(h, region, capacity, h.opts.Log.Index.LastGlobal())
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return nil, h.opts.Stopped()
	}
	h.added = append(h.added, l)
	h.made = append(h.made, l)
	h.dirty.Store(true)
	h.lossy.Add(1)
	h.mu.Unlock()
	h.fan.kick()
	return l, nil
}

// LossyTotals counts the lossy subscriptions opened since New and the
// notifications they dropped for want of room. A subscription's count
// outlives its Close, so the totals never go down.
func (h *Hub) LossyTotals() (n int, dropped uint64) {
	h.mu.Lock()
	made := h.made // appended to only: this prefix stays as it is
	h.mu.Unlock()
	for _, l := range made {
		dropped += l.Dropped()
	}
	return len(made), dropped
}

func newLossy(h *Hub, region event.Region, capacity int, last uint64) *Lossy {
	return &Lossy{
		hub: h, region: region, capacity: capacity,
		all: region.MatchesAll(), anyScope: region.WithScope("").MatchesAll(),
		readyc: make(chan struct{}, 1),
		ownc:   make(chan struct{}),
		last:   last,
	}
}

// Recv returns the next notification, waiting until one arrives, ctx ends,
// or the subscription (ErrClosed) or the store (the store's ErrClosed) is
// closed. After the store is closed, what was buffered is returned first.
func (l *Lossy) Recv(ctx context.Context) (event.Notification, error) {
	for {
		if l.closed.Load() {
			return event.Notification{}, ErrClosed
		}
		if n, ok := l.pop(); ok {
			return n, nil
		}
		select {
		case <-l.readyc:
		case <-ctx.Done():
			return event.Notification{}, ctx.Err()
		case <-l.ownc:
			return event.Notification{}, ErrClosed
		case <-l.hub.opts.Done:
			// The store has stopped and the fan-out delivered its last.
			if n, ok := l.pop(); ok {
				return n, nil
			}
			return event.Notification{}, l.endErr()
		}
	}
}

func (l *Lossy) endErr() error {
	if l.closed.Load() {
		return ErrClosed
	}
	if err := l.hub.closed(); err != nil {
		return err
	}
	return l.hub.opts.Stopped()
}

// C returns a channel that delivers the subscription's notifications, for
// range loops and selects. The first call starts a goroutine that moves
// notifications from the buffer to the channel as it is read; the channel
// is closed when the subscription or the store is closed (what is still
// buffered then can be read with Recv). Use either C or Recv, not both.
func (l *Lossy) C() <-chan event.Notification {
	l.pumpOnce.Do(func() {
		l.c = make(chan event.Notification)
		if l.closed.Load() || l.hub.pumps.Go("lossy", func(context.Context) { l.pump() }) != nil {
			close(l.c)
		}
	})
	return l.c
}

// pump feeds C; it stops when the subscription or the store closes.
func (l *Lossy) pump() {
	defer close(l.c)
	for {
		n, ok := l.pop()
		if !ok {
			select {
			case <-l.readyc:
				continue
			case <-l.ownc:
				return
			case <-l.hub.stopc:
				return
			}
		}
		select {
		case l.c <- n:
		case <-l.ownc:
			return
		case <-l.hub.stopc:
			return
		}
	}
}

// Dropped is the number of matching notifications dropped so far because
// the buffer was full (or, rarely, because the fan-out could not read an
// event it had to fetch from the log).
func (l *Lossy) Dropped() uint64 { return l.dropped.Load() }

// Len is the number of notifications buffered now.
func (l *Lossy) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// Region is the region the subscription selects.
func (l *Lossy) Region() event.Region { return l.region }

// Close ends the subscription: Recv returns ErrClosed and C is closed. It
// is idempotent.
func (l *Lossy) Close() error {
	if !l.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(l.ownc)
	h := l.hub
	h.mu.Lock()
	if !h.stopped {
		h.removed = append(h.removed, l)
		h.dirty.Store(true)
	}
	h.lossy.Add(-1)
	h.mu.Unlock()
	h.fan.kick()
	l.mu.Lock()
	clear(l.q)
	l.q, l.head, l.n = nil, 0, 0
	l.mu.Unlock()
	return nil
}

func (l *Lossy) poke() {
	select {
	case l.readyc <- struct{}{}:
	default:
	}
}

// pop takes the oldest buffered notification.
func (l *Lossy) pop() (event.Notification, bool) {
	l.mu.Lock()
	if l.n == 0 {
		l.mu.Unlock()
		return event.Notification{}, false
	}
	s := &l.q[l.head]
	n := s.b.notes[s.lo]
	if s.lo++; s.lo == s.hi {
		*s = span{}
		if l.head++; l.head == len(l.q) {
			l.q, l.head = l.q[:0], 0
		}
	}
	l.n--
	more := l.n > 0
	l.mu.Unlock()
	if more {
		l.poke() // another receiver may be waiting
	}
	return n, true
}

// offer buffers the notes of b above l.last that match the region, as far
// as the capacity allows, and counts the rest as dropped. Called by the
// fan-out only; runs is its scratch space, returned for reuse.
func (l *Lossy) offer(b *noteBatch, runs []span) []span {
	if l.closed.Load() {
		return runs
	}
	notes := b.notes
	i := 0
	for i < len(notes) && notes[i].Global <= l.last {
		i++
	}
	runs = runs[:0]
	want := 0
	if l.all {
		if i < len(notes) {
			runs = append(runs, span{b, i, len(notes)})
			want = len(notes) - i
		}
	} else {
		for j := i; j < len(notes); j++ {
			if !l.region.MatchesNotification(notes[j]) {
				continue
			}
			if k := len(runs) - 1; k >= 0 && runs[k].hi == j {
				runs[k].hi++
			} else {
				runs = append(runs, span{b, j, j + 1})
			}
			want++
		}
	}
	l.enqueue(runs, want)
	return runs
}

// enqueue buffers runs, want notifications in all, as far as the capacity
// allows, and counts the rest as dropped. Called by the fan-out only.
func (l *Lossy) enqueue(runs []span, want int) {
	if want == 0 || l.closed.Load() {
		return
	}
	l.mu.Lock()
	room, added := l.capacity-l.n, 0
	for _, r := range runs {
		if room == 0 {
			break
		}
		if r.hi-r.lo > room {
			r.hi = r.lo + room
		}
		l.push(r)
		room -= r.hi - r.lo
		added += r.hi - r.lo
	}
	l.n += added
	l.mu.Unlock()
	if d := want - added; d > 0 {
		l.dropped.Add(uint64(d))
	}
	if added > 0 {
		l.poke()
	}
}

// push appends a run to the queue; l.mu is held.
func (l *Lossy) push(r span) {
	if l.head > 0 && l.head >= len(l.q)/2 {
		// Reclaim the consumed front so a queue that never quite empties
		// does not grow without bound.
		k := copy(l.q, l.q[l.head:])
		clear(l.q[k:])
		l.q, l.head = l.q[:k], 0
	}
	l.q = append(l.q, r)
}

// drop counts the notes above l.last that match the region as dropped.
func (l *Lossy) drop(notes []event.Notification) {
	if l.closed.Load() {
		return
	}
	var dropped uint64
	for i := range notes {
		if notes[i].Global > l.last && (l.all || l.region.MatchesNotification(notes[i])) {
			dropped++
		}
	}
	l.dropped.Add(dropped)
}
