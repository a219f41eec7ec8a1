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

// subscription is a lossy push subscription to the notifications the stream republishes
// (headers only) as it stores events. Republication happens after the
// store, so an aborted atomic batch's staged messages are never seen (a
// subscription to the event subjects themselves would see them). A full
// buffer drops notifications and counts them; a notification lost with a
// connection is lost without being counted. For guaranteed delivery use a
// cursor.
type subscription struct {
	s       *Store
	region  batpak.Region
	sub     *nats.Subscription
	ch      chan batpak.Notification
	dropped atomic.Uint64

	closeOnce sync.Once
	closed    chan struct{}

	pumpOnce sync.Once
	out      chan batpak.Notification // C's channel, fed from ch by a goroutine
	pumped   chan struct{}            // closed when that goroutine has ended
}

// Subscribe subscribes to notifications of region's events stored after it
// returns, buffering up to capacity (1 to subscriber.MaxCapacity).
func (s *Store) Subscribe(region batpak.Region, capacity int) (batpak.Subscription, error) {
	l, err := s.subscribe(region, capacity)
	if err != nil {
		return nil, err // never a typed nil inside the interface
	}
	return l, nil
}

func (s *Store) subscribe(region batpak.Region, capacity int) (*subscription, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if capacity < 1 || capacity > subscriber.MaxCapacity {
		return nil, fmt.Errorf("%w: capacity %d (1 to %d)", batpak.ErrInvalidOption, capacity, subscriber.MaxCapacity)
	}
	l := &subscription{s: s, region: region, ch: make(chan batpak.Notification, capacity), closed: make(chan struct{})}
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

func (l *subscription) deliver(m *nats.Msg) {
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
// or the subscription (batpak.ErrSubscriptionClosed) or the store
// (batpak.ErrClosed) is closed; what was buffered is returned first.
func (l *subscription) Recv(ctx context.Context) (batpak.Notification, error) {
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
		return batpak.Notification{}, batpak.ErrSubscriptionClosed
	}
}

// Dropped counts the notifications dropped because the buffer was full.
func (l *subscription) Dropped() uint64 { return l.dropped.Load() }

// Len is the number of notifications buffered now.
func (l *subscription) Len() int { return len(l.ch) }

// C returns a channel delivering the notifications; it is closed when
// the subscription or the store is (what is still buffered then can be
// read with Recv). The first call starts the goroutine that feeds it.
func (l *subscription) C() <-chan batpak.Notification {
	l.pumpOnce.Do(func() {
		l.out, l.pumped = make(chan batpak.Notification), make(chan struct{})
		go l.pump()
	})
	return l.out
}

// pump moves notifications from the buffer to C's channel as it is read.
func (l *subscription) pump() {
	defer close(l.pumped)
	defer close(l.out)
	for {
		select {
		case n := <-l.ch:
			select {
			case l.out <- n:
			case <-l.closed:
				return
			}
		case <-l.closed:
			return
		}
	}
}

// Close ends the subscription; it is idempotent.
func (l *subscription) Close() error {
	l.closeFromStore()
	l.s.untrack(l)
	return nil
}

// closeFromStore ends the subscription and joins C's goroutine.
func (l *subscription) closeFromStore() {
	l.closeOnce.Do(func() {
		_ = l.sub.Unsubscribe()
		close(l.closed)
	})
	l.pumpOnce.Do(func() { // no goroutine starts after this; C gets a closed channel
		l.out = make(chan batpak.Notification)
		close(l.out)
	})
	if l.pumped != nil {
		<-l.pumped
	}
}
