package batpak

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/subscriber"
)

// cursorDir is the directory, inside the store's, of durable cursor files.
const cursorDir = "cursors"

// newHub is the store's subscription side: the fan-out actor (stopped last
// by the store's supervisor), lossy subscriptions and cursors. open calls
// it once recovery has built the index, before the writer exists.
func newHub(s *Store) *subscriber.Hub {
	batch := func(g uint64, known subscriber.Span) (subscriber.Span, error) {
		sp, err := s.segs.BatchSpan(s.idx, g, reader.Span(known))
		return subscriber.Span(sp), s.readErr(err)
	}
	return subscriber.New(subscriber.Options{
		Log:  subscriber.Log{Index: s.idx, Load: s.loadEntries, Batch: batch},
		Done: s.done,
		Closed: func() error {
			if s.closed.Load() {
				return ErrClosed
			}
			return nil
		},
		Stopped: func() error {
			if err := s.failure(); err != nil && !s.closed.Load() {
				return err
			}
			return ErrClosed
		},
		Guard: func(fn func() error) error {
			s.intake.RLock()
			defer s.intake.RUnlock()
			if s.closed.Load() {
				return ErrClosed
			}
			return fn()
		},
		FS:  s.cfg.fs,
		Dir: filepath.Join(s.dir, cursorDir),
	})
}

// loadEntries is subscriber.Log.Load: an event a compaction dropped makes
// the cursor take fresh entries.
func (s *Store) loadEntries(es []index.Entry, dst []*event.StoredEvent) error {
	err := s.segs.Load(s.idx, es, dst)
	if errors.Is(err, reader.ErrEventDropped) {
		return fmt.Errorf("%w: %w", subscriber.ErrStale, err)
	}
	return s.readErr(err)
}

// liveHub is the subscription hub; a read-only store has none (ErrReadOnly).
func (s *Store) liveHub() (*subscriber.Hub, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if s.hub == nil {
		return nil, fmt.Errorf("%w: subscriptions and cursors need a writable store", ErrReadOnly)
	}
	return s.hub, nil
}

// Subscribe subscribes to notifications of the events in region that
// become visible (in Durable mode: durable) after it returns, buffered up
// to capacity (1 to 2^24): when the buffer is full they are dropped and
// counted (Dropped), and the writer never waits. Read with Recv or range
// over C; Close when done. Closing the store ends it (what is buffered
// stays readable with Recv).
func (s *Store) Subscribe(region Region, capacity int) (Subscription, error) {
	if capacity < 1 || capacity > subscriber.MaxCapacity {
		return nil, fmt.Errorf("%w: subscription capacity %d outside 1–%d", ErrInvalidOption, capacity, subscriber.MaxCapacity)
	}
	h, err := s.liveHub()
	if err != nil {
		return nil, err
	}
	l, err := h.SubscribeLossy(region, capacity)
	if err != nil {
		return nil, err // never a typed nil inside the interface
	}
	return l, nil
}

// Cursor opens a guaranteed-delivery cursor on region, delivering the
// visible events with a global sequence above from (0: all), each once,
// in global order. It reads on the caller's goroutine and, caught up,
// blocks until the next event is visible (woken, not polling). Close it
// when done.
func (s *Store) Cursor(region Region, from uint64) (Cursor, error) {
	h, err := s.liveHub()
	if err != nil {
		return nil, err
	}
	c, err := h.Cursor(region, from)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// DurableCursor opens the durable cursor called name (ASCII letters,
// digits, '.', '_', '-') on region, resuming after the position last
// acknowledged with Ack, which is kept crash-safely in the store's
// directory (cursors/<name>): delivery is at-least-once. If the log now
// ends before it (OnWrite events lost to a machine crash), it resumes at
// the log's end.
func (s *Store) DurableCursor(name string, region Region) (DurableCursor, error) {
	h, err := s.liveHub()
	if err != nil {
		return nil, err
	}
	d, err := h.OpenCursor(name, region)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// WaitVisible blocks until the event with global sequence pos is visible to
// queries and cursors (in Durable mode: durable), or ctx ends: read your
// writes for a receipt or position handed over from elsewhere.
func (s *Store) WaitVisible(ctx context.Context, pos uint64) error {
	h, err := s.liveHub()
	if err != nil {
		return err
	}
	return h.WaitVisible(ctx, pos)
}
