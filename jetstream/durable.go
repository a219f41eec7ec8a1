package jetstream

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/subscriber"
	"github.com/nats-io/nats.go/jetstream"
)

// durableCursor is a durable cursor kept by the server: a durable pull
// consumer, acknowledged cumulatively (AckAll), whose acknowledgement floor
// is the position a reopened cursor resumes after. Delivery is
// at-least-once, as with the embedded store. NextBatch never splits an
// atomic batch (see cursor): what the consumer delivers past the end of a
// call is held for the next one.
type durableCursor struct {
	s      *Store
	name   string
	region batpak.Region
	cons   jetstream.Consumer

	mu      sync.Mutex            // one caller at a time; guards the fields below
	pos     uint64                // the last event returned, or every message delivered once none is held
	read    uint64                // the last message delivered
	acked   uint64                // the acknowledgement floor
	held    []*batpak.StoredEvent // delivered, in the region, not yet returned
	heldBat []string              // held[i]'s atomic batch id, "" for an event appended alone
	open    string                // the batch the last message delivered leaves open
	pending []delivered           // delivered and not yet acknowledged, in order
	// dseq is the consumer's delivery sequence of the last message
	// delivered since the consumer was last reset (which numbers its
	// deliveries from 1 again): a delivery numbered past dseq+1 means
	// messages were lost between the server and here (see fetch).
	dseq uint64

	closeOnce sync.Once
	closed    chan struct{}
}

type delivered struct {
	seq uint64
	msg jetstream.Msg
}

// consumerWait bounds one pull request, so a waiting Next notices Close.
const consumerWait = time.Second

// DurableCursor opens the durable cursor called name (as the embedded
// store names them) on region, resuming after the position last
// acknowledged. The consumer is created on first use and its filter updated
// if region changed; opening resets its delivery to the acknowledgement
// floor, so events delivered but never acknowledged come again at once
// rather than after an ack wait. One cursor of a name may be open at a time.
func (s *Store) DurableCursor(name string, region batpak.Region) (batpak.DurableCursor, error) {
	c, err := s.openDurable(name, region)
	if err != nil {
		return nil, err // never a typed nil inside the interface
	}
	return c, nil
}

func (s *Store) openDurable(name string, region batpak.Region) (*durableCursor, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if err := subscriber.ValidCursorName(name); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(s.opts.Attempts)*s.opts.Timeout)
	defer cancel()
	cfg := jetstream.ConsumerConfig{
		Durable:       token(name), // consumer names cannot hold '.'
		Description:   "batpak cursor " + name,
		FilterSubject: s.subj.filter(region),
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckAllPolicy,
		AckWait:       time.Hour, // reopening resets delivery; no timed redelivery needed
		MaxAckPending: 1 << 20,
		MaxDeliver:    -1,
	}
	var cons jetstream.Consumer
	err := s.retry(ctx, "create consumer", func(ctx context.Context) error {
		var err error
		cons, err = s.js.CreateOrUpdateConsumer(ctx, s.opts.Stream, cfg)
		return err
	})
	if err != nil {
		return nil, err
	}
	var reset *jetstream.ConsumerResetResponse
	err = s.retry(ctx, "reset consumer", func(ctx context.Context) error {
		var err error
		reset, err = s.js.ResetConsumer(ctx, s.opts.Stream, cfg.Durable)
		return err
	})
	if err != nil {
		return nil, err
	}
	var floor uint64
	if reset.ConsumerInfo != nil {
		floor = reset.ConsumerInfo.AckFloor.Stream
	}
	c := &durableCursor{s: s, name: name, region: region, cons: cons, pos: floor, read: floor, acked: floor, closed: make(chan struct{})}
	if err := s.track(c); err != nil {
		return nil, err
	}
	return c, nil
}

// Name is the cursor's name.
func (c *durableCursor) Name() string { return c.name }

// Next returns the next event of the region, waiting until one is stored,
// ctx ends or the cursor or store is closed.
func (c *durableCursor) Next(ctx context.Context) (*batpak.StoredEvent, error) {
	evs, err := c.take(ctx, 1, false)
	if err != nil {
		return nil, err
	}
	return evs[0], nil
}

// NextBatch returns up to limit events (limit <= 0: defaultBatch;
// one pull asks for at most 4,096 messages whatever the limit), waiting as
// Next does for the first. Like cursor.NextBatch it never splits an atomic
// batch.
func (c *durableCursor) NextBatch(ctx context.Context, limit int) ([]*batpak.StoredEvent, error) {
	if limit <= 0 {
		limit = defaultBatch
	}
	return c.take(ctx, limit, true)
}

// take returns up to limit events, keeping atomic batches whole if whole.
func (c *durableCursor) take(ctx context.Context, limit int, whole bool) ([]*batpak.StoredEvent, error) {
	// A pull request's size sizes the client's buffer for it: a caller's
	// huge limit must not become a huge (or impossible) allocation.
	pull := min(limit, consumerBatch)
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.held) == 0 {
		if err := c.err(); err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		wait := consumerWait
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			wait = max(time.Until(dl), 10*time.Millisecond)
		}
		if _, err := c.fetch(ctx, func() (jetstream.MessageBatch, error) {
			return c.cons.Fetch(pull, jetstream.FetchMaxWait(wait))
		}); err != nil {
			return nil, err
		}
	}
	n := min(limit, len(c.held))
	for ok := !whole; !ok; {
		if n, ok = batchCut(c.heldBat, limit, c.open); !ok {
			// The call is one batch, which may go on past what was delivered.
			if err := c.finish(ctx); err != nil {
				return nil, err
			}
		}
	}
	out := c.held[:n:n]
	c.held, c.heldBat = c.held[n:], c.heldBat[n:]
	c.pos = out[n-1].Global
	if len(c.held) == 0 {
		c.pos = max(c.pos, c.read)
	}
	return out, nil
}

// finish has the rest of the open batch that the delivered messages end in
// delivered: it learns from the stream where the batch ends and pulls,
// without waiting, until a message at or past that end came or nothing
// more does (the rest lies outside the consumer's filter).
func (c *durableCursor) finish(ctx context.Context) error {
	id := c.open
	end, err := c.s.batchEnd(ctx, id, c.read)
	if err != nil {
		return err
	}
	for c.read < end {
		n, err := c.fetch(ctx, func() (jetstream.MessageBatch, error) {
			return c.cons.FetchNoWait(int(min(end-c.read, consumerBatch)))
		})
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
	}
	if c.open == id {
		c.open = "" // all of it this consumer will deliver has come
	}
	return nil
}

// fetch runs one pull and holds the region's events among the messages it
// delivers; it returns how many new messages came (0 after a pull that
// timed out).
//
// Messages the consumer delivered can be lost on the way (a connection or
// route cut, a consumer leader change while a pull is answered), and the
// consumer counts them delivered: what it delivers next comes after them.
// Acknowledging a later message would acknowledge them too (AckAll), so a
// cursor reading on would lose them for good. The consumer numbers its
// deliveries, so a skipped number shows the loss: the messages from there
// on are dropped and the consumer is reset to its acknowledgement floor,
// which delivers everything after the floor again; what this cursor
// already has is skipped (its acknowledgement handle renewed), and the
// lost messages come.
func (c *durableCursor) fetch(ctx context.Context, pull func() (jetstream.MessageBatch, error)) (int, error) {
	batch, err := pull()
	if err != nil {
		if c.err() != nil {
			return 0, c.err()
		}
		if retryable(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("jetstream: cursor %s: %w", c.name, err)
	}
	n, lost := 0, false
	for m := range batch.Messages() {
		meta, err := m.Metadata()
		if err != nil {
			return n, err
		}
		if lost {
			continue // read to the end of the pull
		}
		if ds := meta.Sequence.Consumer; ds > c.dseq+1 {
			lost = true
			continue
		} else {
			c.dseq = ds // also back, after a consumer leader change: what it redelivers is skipped below
		}
		seq := meta.Sequence.Stream
		if seq <= c.read {
			c.renew(seq, m) // a redelivery of what this cursor already has
			continue
		}
		d, err := decode(seq, m.Data())
		if err != nil {
			return n, err
		}
		n++
		c.pending = append(c.pending, delivered{seq: seq, msg: m})
		c.read = seq
		id, open := batchOf(m.Headers())
		c.open = ""
		if open {
			c.open = id
		}
		if c.region.Matches(d.ev.Coordinate, d.ev.Kind, d.ev.Sequence) {
			c.held, c.heldBat = append(c.held, d.ev), append(c.heldBat, id)
		}
	}
	if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !retryable(err) && n == 0 {
		if c.err() != nil {
			return 0, c.err()
		}
		return 0, fmt.Errorf("jetstream: cursor %s: %w", c.name, err)
	}
	if lost {
		if err := c.s.retry(ctx, "reset consumer", func(ctx context.Context) error {
			_, err := c.s.js.ResetConsumer(ctx, c.s.opts.Stream, token(c.name))
			return err
		}); err != nil {
			return n, err
		}
		c.dseq = 0
	}
	return n, nil
}

// renew replaces the acknowledgement handle of the pending message at
// stream sequence seq with its redelivery's: after a reset the consumer
// takes acknowledgements by its new numbering.
func (c *durableCursor) renew(seq uint64, m jetstream.Msg) {
	for i := len(c.pending) - 1; i >= 0 && c.pending[i].seq >= seq; i-- {
		if c.pending[i].seq == seq {
			c.pending[i].msg = m
			return
		}
	}
}

// Ack records that every event up to and including pos is handled: the
// newest delivered message at or below pos is acknowledged (cumulatively)
// and the server confirms it before Ack returns.
func (c *durableCursor) Ack(ctx context.Context, pos uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.err(); err != nil {
		return err
	}
	if pos > c.pos {
		return fmt.Errorf("%w: %d > %d", batpak.ErrAckAhead, pos, c.pos)
	}
	if pos <= c.acked {
		return nil
	}
	i := len(c.pending) - 1
	for i >= 0 && c.pending[i].seq > pos {
		i--
	}
	if i < 0 {
		c.acked = pos
		return nil
	}
	err := c.s.retry(ctx, "ack", func(ctx context.Context) error { return c.pending[i].msg.DoubleAck(ctx) })
	if err != nil {
		return err
	}
	c.pending = c.pending[i+1:]
	c.acked = pos
	return nil
}

// Acked is the last acknowledged position.
func (c *durableCursor) Acked() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.acked
}

// All yields the region's events, as batpak.Cursor documents.
func (c *durableCursor) All(ctx context.Context) iter.Seq2[*batpak.StoredEvent, error] {
	return each(ctx, c.Next)
}

// Position is the global sequence of the last event delivered.
func (c *durableCursor) Position() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pos
}

func (c *durableCursor) err() error {
	select {
	case <-c.closed:
		return batpak.ErrSubscriptionClosed
	default:
	}
	return c.s.check()
}

// Close closes the cursor without acknowledging anything more; the
// consumer, and its position, stay on the server.
func (c *durableCursor) Close() error {
	c.closeFromStore()
	c.s.untrack(c)
	return nil
}

func (c *durableCursor) closeFromStore() { c.closeOnce.Do(func() { close(c.closed) }) }
