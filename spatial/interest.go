package spatial

import (
	"context"
	"errors"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// Interest is an area-of-interest feed: the notifications of the events
// in the chunks within a radius of a moving point (a player), that
// follows the point across chunk borders. It is a lossy subscription
// (Subscribe) on the area: a slow reader loses what overflows its buffer,
// counted by Dropped, and never slows the writers.
//
// A move hands the feed over from the old area to the new one at the
// position the store is at (its head) when the new area's subscription is
// made: the events up to it come from the old area, those after it from
// the new, each once and in global order. Move before appending the
// events that make the move, so the mover sees its own arrival. The old
// area's subscription stays open until the store has offered it
// everything up to the handover — which it has once either subscription
// shows anything past the handover, because the embedded store offers
// each delivery to its subscriptions in the order they were made — and
// the Drain that finds so closes it. (On the JetStream backend, whose
// subscriptions are delivered independently, a handover may miss or
// reorder what the two areas' subscriptions deliver around it.)
//
// An Interest is for one goroutine: a game server's tick loop moves and
// drains its players' feeds itself.
type Interest struct {
	es       batpak.EventStore
	radius   int
	capacity int
	at       Chunk
	cur      batpak.Subscription  // the current area's
	prev     batpak.Subscription  // the old area's during a handover, else nil
	cut      uint64               // the handover's position: up to it from prev, after it from cur
	held     []event.Notification // taken from cur by Wait, for the next Drain
	fresh    []event.Notification // Drain's scratch
	dropped  uint64               // by subscriptions closed
}

// Follow opens the feed of the chunks within radius of at (radius 1: the
// 3×3 around it), buffering up to capacity notifications (see
// batpak.EventStore.Subscribe). It sees the events that become visible
// after it returns.
func Follow(es batpak.EventStore, at Chunk, radius, capacity int) (*Interest, error) {
	f := &Interest{es: es, radius: max(radius, 0), capacity: capacity, at: at}
	sub, err := es.Subscribe(Area(at.Around(f.radius)...), capacity)
	if err != nil {
		return nil, err
	}
	f.cur = sub
	return f, nil
}

// At is the chunk the feed is centred on.
func (f *Interest) At() Chunk { return f.at }

// MoveTo centres the feed on c: events that become visible after it
// returns come from c's area, those visible before from the old one.
// Moving to the chunk it is on does nothing. A move while the previous
// handover is still open (nothing has happened in either area since)
// finishes that one first: what the older area had not yet been offered
// is then lost to the feed, and not counted as dropped.
func (f *Interest) MoveTo(c Chunk) error {
	if f.cur == nil {
		return ErrFeedClosed
	}
	if c == f.at {
		return nil
	}
	sub, err := f.es.Subscribe(Area(c.Around(f.radius)...), f.capacity)
	if err != nil {
		return err
	}
	// After the subscription: everything past the head becomes visible
	// after it exists, so it is offered to it.
	cut := f.es.ProjectionLog().Head()
	if f.prev != nil {
		f.closePrev()
	}
	f.prev, f.cur, f.cut, f.at = f.cur, sub, cut, c
	return nil
}

// Wait blocks until the current area's subscription has a notification
// (kept for the next Drain), ctx ends, or the store closes.
func (f *Interest) Wait(ctx context.Context) error {
	if f.cur == nil {
		return ErrFeedClosed
	}
	if len(f.held) > 0 || f.cur.Len() > 0 {
		return nil
	}
	n, err := f.cur.Recv(ctx)
	if err != nil {
		return err
	}
	f.held = append(f.held, n)
	return nil
}

// Drain appends to dst, without waiting, the notifications that have
// arrived, in global order, and returns it. An error (the store closed)
// comes with what was drained before it.
func (f *Interest) Drain(ctx context.Context, dst []event.Notification) ([]event.Notification, error) {
	if f.cur == nil {
		return dst, ErrFeedClosed
	}
	// The current area first: a notification past cut there proves that
	// the old area has been offered everything up to cut.
	fresh, err := take(ctx, f.cur, append(f.fresh[:0], f.held...))
	f.held, f.fresh = f.held[:0], fresh
	done := len(fresh) > 0 && fresh[len(fresh)-1].Global > f.cut
	if f.prev != nil && err == nil {
		// The old area's notifications go straight to dst: those past cut
		// (the new area's to deliver) are taken back off its end.
		from := len(dst)
		dst, err = take(ctx, f.prev, dst)
		k := from
		for _, n := range dst[from:] {
			if n.Global <= f.cut {
				dst[k] = n
				k++
			} else {
				done = true
			}
		}
		clear(dst[k:])
		dst = dst[:k]
		if done {
			f.closePrev()
		}
	}
	for _, n := range fresh {
		if n.Global > f.cut {
			dst = append(dst, n)
		}
	}
	return dst, err
}

// take appends what sub has buffered now to dst.
func take(ctx context.Context, sub batpak.Subscription, dst []event.Notification) ([]event.Notification, error) {
	for k := sub.Len(); k > 0; k-- {
		n, err := sub.Recv(ctx) // buffered: returns at once
		if err != nil {
			return dst, err
		}
		dst = append(dst, n)
	}
	return dst, nil
}

func (f *Interest) closePrev() {
	f.dropped += f.prev.Dropped()
	_ = f.prev.Close()
	f.prev = nil
}

// Dropped counts the notifications lost to a full buffer, over every
// area the feed has had.
func (f *Interest) Dropped() uint64 {
	d := f.dropped
	if f.cur != nil {
		d += f.cur.Dropped()
	}
	if f.prev != nil {
		d += f.prev.Dropped()
	}
	return d
}

// Close ends the feed; it is idempotent.
func (f *Interest) Close() error {
	var err error
	if f.prev != nil {
		f.closePrev()
	}
	if f.cur != nil {
		f.dropped += f.cur.Dropped()
		err = f.cur.Close()
		f.cur = nil
	}
	return err
}

// ErrFeedClosed is returned by an Interest's calls after its Close.
var ErrFeedClosed = errors.New("spatial: interest feed closed")
