package jetstream

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/subscriber"
	"github.com/nats-io/nats.go"
)

// Lossy is a push subscription to the notifications the stream republishes
// (headers only) as it stores events. Republication happens after the
// store, so an aborted atomic batch's staged messages are never seen (a
// subscription to the event subjects themselves would see them). A full
// buffer drops notifications and counts them; a notification lost with a
// connection is lost without being counted. For guaranteed delivery use a
// Cursor.
type Lossy struct {
	s       *Store
	region  batpak.Region
	sub     *nats.Subscription
	ch      chan batpak.Notification
	dropped atomic.Uint64

	closeOnce sync.Once
	closed    chan struct{}
}

// Subscribe subscribes to notifications of region's events stored after it
// returns, buffering up to capacity (1 to subscriber.MaxCapacity).
func (s *Store) Subscribe(region batpak.Region, capacity int) (batpak.Subscription, error) {
	l, err := s.SubscribeLossy(region, capacity)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// SubscribeLossy is Subscribe returning the concrete type.
func (s *Store) SubscribeLossy(region batpak.Region, capacity int) (*Lossy, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if capacity < 1 || capacity > subscriber.MaxCapacity {
		return nil, fmt.Errorf("%w: capacity %d (1 to %d)", batpak.ErrInvalidOption, capacity, subscriber.MaxCapacity)
	}
	l := &Lossy{s: s, region: region, ch: make(chan batpak.Notification, capacity), closed: make(chan struct{})}
	sub, err := s.nc.Subscribe(s.rpFilter(s.subj.filter(region)), l.deliver)
	if err != nil {
		return nil, err
	}
	l.sub = sub
	// Make sure the server has the subscription before returning, so every
	// event stored afterwards is delivered.
	if err := s.nc.Flush(); err != nil {
		_ = sub.Unsubscribe()
		return nil, err
	}
	if err := s.track(l); err != nil {
		_ = sub.Unsubscribe()
		return nil, err
	}
	return l, nil
}

func (l *Lossy) deliver(m *nats.Msg) {
	n, err := l.s.notification(m)
	if err != nil || !l.region.MatchesNotification(n) {
		return
	}
	select {
	case l.ch <- n:
	default:
		l.dropped.Add(1)
	}
}

// Recv returns the next notification, waiting until one arrives, ctx ends
// or the subscription (subscriber.ErrClosed) or the store
// (batpak.ErrClosed) is closed; what was buffered is returned first.
func (l *Lossy) Recv(ctx context.Context) (batpak.Notification, error) {
	select {
	case n := <-l.ch:
		return n, nil
	default:
	}
	select {
	case n := <-l.ch:
		return n, nil
	case <-ctx.Done():
		return batpak.Notification{}, ctx.Err()
	case <-l.closed:
		select {
		case n := <-l.ch:
			return n, nil
		default:
		}
		if err := l.s.check(); err != nil {
			return batpak.Notification{}, err
		}
		return batpak.Notification{}, subscriber.ErrClosed
	}
}

// Dropped counts the notifications dropped because the buffer was full.
func (l *Lossy) Dropped() uint64 { return l.dropped.Load() }

// Len is the number of notifications buffered now.
func (l *Lossy) Len() int { return len(l.ch) }

// Close ends the subscription; it is idempotent.
func (l *Lossy) Close() error {
	l.closeFromStore()
	l.s.untrack(l)
	return nil
}

func (l *Lossy) closeFromStore() {
	l.closeOnce.Do(func() {
		_ = l.sub.Unsubscribe()
		close(l.closed)
	})
}
