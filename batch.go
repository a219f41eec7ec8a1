package batpak

import (
	"context"
	"fmt"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/internal/instrument"
	"github.com/batpak-go/batpak/writer"
)

// CauseItem makes an item caused by the earlier item at index i.
func CauseItem(i int) Cause { return event.CauseItem(i) }

// CauseLatestOf makes an item caused by the latest earlier item of entity.
func CauseLatestOf(entity string) Cause { return event.CauseLatestOf(entity) }

// CauseID makes an item caused by an existing event.
func CauseID(id ID) Cause { return event.CauseID(id) }

// AppendBatch appends items atomically: readers, queries and subscribers
// see all of them or none, and a crash never leaves a part. Everything is
// checked before anything is written — coordinates, limits
// (WithBatchLimits), expected sequences, causes, idempotency keys — and a
// failure rejects the batch with a *BatchItemError naming the item. It is
// one BEGIN…COMMIT run, one write and, in Durable mode, one fsync.
// Receipts come back in item order.
//
// A batch whose items all carry idempotency keys already appended is a
// retry: it returns the original receipts and writes nothing, if it
// repeats the original batch (each item the same event; for two or more,
// the same items in the same order). Anything else — and a batch mixing
// seen and new keys — is ErrDuplicate.
func (s *Store) AppendBatch(ctx context.Context, items []BatchItem) ([]Receipt, error) {
	start := instrument.Now()
	t, err := s.SubmitBatch(ctx, items, DefaultDurability)
	if err != nil {
		return nil, err
	}
	rs, err := t.WaitAll(ctx)
	s.timeWrite(s.durability(DefaultDurability), start)
	return rs, err
}

// AppendReactionBatch is AppendBatch with a correlation and causation set on
// every item that names none of its own.
func (s *Store) AppendReactionBatch(ctx context.Context, correlation, causation ID, items []BatchItem) ([]Receipt, error) {
	return s.AppendBatch(ctx, event.Reactions(correlation, causation, items))
}

// SubmitBatch hands a batch to the writer and returns at once; WaitAll
// returns its receipts once acknowledged.
func (s *Store) SubmitBatch(ctx context.Context, items []BatchItem, d Durability) (Ticket, error) {
	its, err := s.batchItems(len(items), func(i int) (writer.Item, error) {
		it, err := s.item(ctx, items[i].Coord, items[i].Kind, items[i].Payload, items[i].Options)
		it.Cause = items[i].Cause
		return it, err
	})
	if err != nil {
		return nil, err
	}
	return s.submit(ctx, writer.NewBatch(its, s.durability(d)))
}

// batchItems checks a batch's size against the limits (WithBatchLimits)
// and builds its items, naming the item that fails with a *BatchItemError.
func (s *Store) batchItems(n int, item func(i int) (writer.Item, error)) ([]writer.Item, error) {
	switch {
	case n == 0:
		return nil, ErrEmptyBatch
	case n > s.cfg.maxBatchItems:
		return nil, fmt.Errorf("%w: %d items exceeds %d", ErrBatchTooLarge, n, s.cfg.maxBatchItems)
	}
	its := make([]writer.Item, n)
	total := 0
	for i := range its {
		it, err := item(i)
		if err != nil {
			return nil, &BatchItemError{Item: i, Err: err}
		}
		if total += len(it.Plaintext()); total > s.cfg.maxBatchBytes {
			return nil, fmt.Errorf("%w: payloads exceed %d bytes", ErrBatchTooLarge, s.cfg.maxBatchBytes)
		}
		its[i] = it
	}
	return its, nil
}
