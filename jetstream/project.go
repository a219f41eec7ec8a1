package jetstream

import (
	"context"
	"errors"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/projector"
	"github.com/nats-io/nats.go"
)

// The rest of projector.Source, for live projections (batpak.NewProjector):
// a cursor feeds each, and an event is visible once the stream holds it.

func (l projectionLog) Follow(r event.Region, from uint64) (projector.Feed, error) {
	return l.s.Cursor(r, from)
}

// WaitVisible returns once the stream holds global sequence pos, woken by
// the stream's republished notifications (or, should they be lost with a
// connection, at most every repoll).
func (l projectionLog) WaitVisible(ctx context.Context, pos uint64) error {
	s := l.s
	if err := s.check(); err != nil {
		return err
	}
	wake := make(chan struct{}, 1)
	sub, err := s.nc.Subscribe(s.rpFilter(s.subj.filter(event.AllEvents())), func(*nats.Msg) {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	// The server has the subscription before the first look at the head,
	// so an event stored after it wakes the wait.
	if err := s.nc.Flush(); err != nil {
		return err
	}
	for {
		head, err := s.head(ctx)
		if err != nil || head >= pos {
			return err
		}
		t := time.NewTimer(repoll)
		select {
		case <-wake:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-s.done:
			t.Stop()
			return batpak.ErrClosed
		}
		t.Stop()
	}
}

// Final reports whether err means the store is closed: a live projection
// then stops instead of restarting.
func (l projectionLog) Final(err error) bool {
	return errors.Is(err, batpak.ErrClosed) || l.s.closed.Load()
}
