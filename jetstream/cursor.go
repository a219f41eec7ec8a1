package jetstream

import (
	"context"
	"iter"
	"strings"
	"sync"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/nats-io/nats.go"
)

// A cursor reads its region by stream sequence from its position — a
// direct get for the first events, an ordered consumer for long catch-ups
// (consume.go) — so it sees exactly what the stream stored, in order,
// once: an atomic batch's messages are invisible until it commits, a read
// never ends inside one, and NextBatch never splits one across calls
// (batchread.go).
// When caught up it waits for the stream's republished notification of a
// matching event (or, should notifications be lost with a connection, at
// most repoll).
type cursor struct {
	s      *Store
	region batpak.Region
	filter string
	sub    *nats.Subscription
	wake   chan struct{}

	mu  sync.Mutex // one reader at a time
	pos uint64
	buf []*batpak.StoredEvent // read ahead; it always ends between batches
	bat []string              // buf[i]'s atomic batch id, "" for an event appended alone

	closeOnce sync.Once
	closed    chan struct{}
}

// repoll bounds a caught-up cursor's wait when no notification arrives.
const repoll = time.Second

// defaultBatch is NextBatch's size for max <= 0, as the embedded store's.
const defaultBatch = 256

// Cursor opens a guaranteed-delivery cursor on region that delivers the
// events with a global sequence above from.
func (s *Store) Cursor(region batpak.Region, from uint64) (batpak.Cursor, error) {
	c, err := s.openCursor(region, from)
	if err != nil {
		return nil, err // never a typed nil inside the interface
	}
	return c, nil
}

func (s *Store) openCursor(region batpak.Region, from uint64) (*cursor, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	c := &cursor{s: s, region: region, filter: s.subj.filter(region), pos: from,
		wake: make(chan struct{}, 1), closed: make(chan struct{})}
	sub, err := s.nc.Subscribe(s.rpFilter(c.filter), func(*nats.Msg) {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return nil, err
	}
	c.sub = sub
	if err := s.track(c); err != nil {
		_ = sub.Unsubscribe()
		return nil, err
	}
	return c, nil
}

// rpFilter is the republished form of an event subject filter.
func (s *Store) rpFilter(filter string) string {
	return s.subj.rp + strings.TrimPrefix(filter, s.subj.prefix)
}

// Next returns the next event of the region, waiting until one is stored,
// ctx ends, or the cursor (batpak.ErrSubscriptionClosed) or the store
// (batpak.ErrClosed) is closed.
func (c *cursor) Next(ctx context.Context) (*batpak.StoredEvent, error) {
	evs, err := c.take(ctx, 1, false)
	if err != nil {
		return nil, err
	}
	return evs[0], nil
}

// NextBatch returns up to max events (max <= 0: defaultBatch),
// waiting as Next does for the first. It never splits an atomic batch: a
// call that would end inside one ends before it, and a batch that starts
// the call and alone has more than max events in the region comes whole.
func (c *cursor) NextBatch(ctx context.Context, max int) ([]*batpak.StoredEvent, error) {
	if max <= 0 {
		max = defaultBatch
	}
	return c.take(ctx, max, true)
}

// take returns up to max events, keeping atomic batches whole if whole.
func (c *cursor) take(ctx context.Context, max int, whole bool) ([]*batpak.StoredEvent, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.buf) == 0 {
		if err := c.err(); err != nil {
			return nil, err
		}
		// Take the pending wake-up before reading, so a notification that
		// arrives during the read is not lost.
		select {
		case <-c.wake:
		default:
		}
		if err := c.fill(ctx); err != nil {
			return nil, err
		}
		if len(c.buf) > 0 {
			break
		}
		t := time.NewTimer(repoll)
		select {
		case <-c.wake:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-c.closed:
		case <-c.s.done:
		}
		t.Stop()
	}
	n := min(max, len(c.buf))
	if whole {
		n, _ = batchCut(c.bat, max, "") // the buffer ends between batches
	}
	out := c.buf[:n:n]
	c.buf, c.bat = c.buf[n:], c.bat[n:]
	c.pos = out[n-1].Global
	return out, nil
}

// fill reads the next events after the position, up to a consumer
// fetch's worth and on to the end of the atomic batch that ends it (a read
// to the end of what is stored ends between batches: see scan): a cursor
// catching up reads most of its history by consumer (consume.go), a
// caught-up one a few events by direct get. It is called with an empty
// buffer and leaves it empty if it fails.
func (c *cursor) fill(ctx context.Context) error {
	open := "" // the batch the last event read leaves open
	err := c.s.eachMsg(ctx, c.region, c.pos, 0, func(ev *batpak.StoredEvent, h nats.Header) error {
		id, more := batchOf(h)
		if len(c.buf) >= consumerBatch && (open == "" || id != open) {
			return errStop // the limit falls between batches
		}
		c.buf, c.bat = append(c.buf, ev), append(c.bat, id)
		open = ""
		if more {
			open = id
		}
		return nil
	})
	if err != nil {
		clear(c.buf)
		c.buf, c.bat = c.buf[:0], c.bat[:0]
	}
	return err
}

func (c *cursor) err() error {
	select {
	case <-c.closed:
		return batpak.ErrSubscriptionClosed
	default:
	}
	return c.s.check()
}

// All yields the region's events, history first and then live, as
// batpak.Cursor documents.
func (c *cursor) All(ctx context.Context) iter.Seq2[*batpak.StoredEvent, error] {
	return each(ctx, c.Next)
}

// each yields what next returns until it fails (the error yielded last)
// or the loop breaks.
func each(ctx context.Context, next func(context.Context) (*batpak.StoredEvent, error)) iter.Seq2[*batpak.StoredEvent, error] {
	return func(yield func(*batpak.StoredEvent, error) bool) {
		for {
			ev, err := next(ctx)
			if !yield(ev, err) || err != nil {
				return
			}
		}
	}
}

// Position is the global sequence of the last event returned (or the
// starting position).
func (c *cursor) Position() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pos
}

// Close ends the cursor; it is idempotent.
func (c *cursor) Close() error {
	c.closeFromStore()
	c.s.untrack(c)
	return nil
}

func (c *cursor) closeFromStore() {
	c.closeOnce.Do(func() {
		close(c.closed)
		_ = c.sub.Unsubscribe()
	})
}
