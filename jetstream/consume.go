package jetstream

import (
	"context"
	"fmt"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Long reads use an ordered consumer rather than direct gets. A batched
// direct get makes the server look each message up anew (and the client
// wait for a page before asking for the next); a consumer's fetch streams
// the matching messages from one pass over the store, about three times
// faster per message on a 2-core machine (docs/SCALE-OUT.md). Creating
// the consumer costs a request, so scan reads a short first page with a
// direct get, which answers small reads alone, and only switches to a
// consumer when more remains.
//
// The consumer is ephemeral, in memory, unacknowledged and filtered on the
// same subject as the direct get; it is created at the sequence where the
// direct page ended and is deleted once its fetch is read (a lost delete
// is cleaned up by the server after consumerIdle). The messages it
// delivers are the stream's stored messages in stream order: the staged
// messages of an atomic batch are not among them until the batch commits,
// but a fetch that runs while the server stores a committed batch may end
// inside it, which scan then reads on to the end of (batchread.go).

const (
	// firstPage is how many messages scan reads with a direct get before
	// switching to a consumer.
	firstPage = 128
	// consumerBatch is how many messages one consumer fetch asks for.
	consumerBatch = 4096
	// consumerIdle is how long the server keeps a consumer whose delete
	// was lost.
	consumerIdle = 30 * time.Second
)

// scanConsumer is scan's remainder: fn with each message matching filter
// from stream sequence from on, up to through (0: the end), read by
// consumer fetches of consumerBatch messages.
func (s *Store) scanConsumer(ctx context.Context, filter string, from, through uint64, fn func(m rawMsg) error) error {
	for {
		if err := s.check(); err != nil {
			return err
		}
		var (
			msgs []rawMsg
			more bool
		)
		err := s.retry(ctx, "consumer fetch", func(ctx context.Context) error {
			var err error
			msgs, more, err = s.fetchPage(ctx, filter, from, through)
			return err
		})
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if err := fn(m); err != nil {
				return err
			}
		}
		if !more || len(msgs) == 0 {
			return nil
		}
		from = msgs[len(msgs)-1].seq + 1
	}
}

// fetchPage reads up to consumerBatch messages with a new ordered consumer
// and reports whether more matching messages remain.
func (s *Store) fetchPage(ctx context.Context, filter string, from, through uint64) ([]rawMsg, bool, error) {
	oc, err := s.js.OrderedConsumer(ctx, s.opts.Stream, jetstream.OrderedConsumerConfig{
		FilterSubjects:    []string{filter},
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       from,
		InactiveThreshold: consumerIdle,
	})
	if err != nil {
		return nil, false, err
	}
	batch, err := oc.FetchNoWait(consumerBatch)
	if err != nil {
		return nil, false, err
	}
	defer func() {
		if info := oc.CachedInfo(); info != nil {
			// Not waited for: the server drops it after consumerIdle anyway.
			_ = s.nc.Publish(s.api+"CONSUMER.DELETE."+s.opts.Stream+"."+info.Name, nil)
		}
	}()
	var (
		out     []rawMsg
		pending uint64 = 1 // unknown until a message says
		past    bool
		gap     bool
	)
	for m := range batch.Messages() {
		md, err := m.Metadata()
		if err != nil {
			return nil, false, fmt.Errorf("%w: consumer message without metadata: %v", batpak.ErrCorrupt, err)
		}
		// A fresh consumer numbers its deliveries 1, 2, 3…: a skipped
		// number is a message lost on the way (a slow-consumer drop). What
		// came before it is kept and the read resumes after that with a
		// new consumer, so nothing is skipped.
		if gap || md.Sequence.Consumer != uint64(len(out))+1 || past {
			gap = gap || (!past && md.Sequence.Consumer != uint64(len(out))+1)
			continue // read to the end of the fetch
		}
		pending = md.NumPending
		seq := md.Sequence.Stream
		if through > 0 && seq > through {
			past = true
			continue
		}
		out = append(out, rawMsg{seq: seq, subj: m.Subject(), hdr: m.Headers(), data: m.Data()})
	}
	if err := batch.Error(); err != nil {
		return nil, false, err
	}
	if gap {
		if len(out) == 0 {
			return nil, false, fmt.Errorf("jetstream: consumer fetch lost its first message: %w", nats.ErrTimeout)
		}
		return out, true, nil
	}
	return out, len(out) > 0 && pending > 0 && !past, nil
}
