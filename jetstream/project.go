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

func (l projectionLog) WaitVisible(ctx context.Context, pos uint64) error {
	return l.s.WaitVisible(ctx, pos)
}

// WaitVisible returns once the event with global sequence pos (a receipt's
// Global, from any client) is visible to this store's reads: the stream
// leader holds it, and, on a replicated stream, a direct get (which any
// replica may answer) finds it too. It is woken by the stream's
// republished notifications (or, should they be lost with a connection, at
// most every repoll).
func (s *Store) WaitVisible(ctx context.Context, pos uint64) error {
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
		if err != nil {
			return err
		}
		if head >= pos {
			return s.waitReplica(ctx, pos)
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

// waitReplica returns once a direct get finds the message at pos, which
// the leader holds: on a replicated stream the replica answering may lag
// by a few milliseconds.
func (s *Store) waitReplica(ctx context.Context, pos uint64) error {
	if s.opts.Replicas == 1 || pos == 0 {
		return nil
	}
	for attempt := 1; ; attempt++ {
		_, err := s.directGet(ctx, msgGetRequest{Seq: pos})
		if !errors.Is(err, batpak.ErrNotFound) {
			return err
		}
		if err := backoff(ctx, s.done, attempt); err != nil {
			return err
		}
	}
}

// Final reports whether err means the store is closed: a live projection
// then stops instead of restarting.
func (l projectionLog) Final(err error) bool {
	return errors.Is(err, batpak.ErrClosed) || l.s.closed.Load()
}
