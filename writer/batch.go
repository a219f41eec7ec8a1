package writer

import (
	"fmt"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/segment"
)

// appendBatch validates a whole batch against the log's end (and against
// its own earlier items), then encodes BEGIN, the items and COMMIT into
// buf. Any failure rejects the batch before a byte is buffered. It returns
// false, having done nothing, if the batch does not fit the segment.
func (c *core) appendBatch(r *Request) bool {
	if replayed, err := c.batchKeys(r); err != nil || replayed {
		if err != nil {
			c.answer(r, err)
		}
		return true
	}
	if len(r.items) > 0 && r.items[0].Import != nil {
		if replayed, err := c.batchImported(r); err != nil || replayed {
			if err != nil {
				c.answer(r, err)
			}
			return true
		}
	}
	staged, size, err := c.checkBatch(r.items)
	if err != nil {
		c.answer(r, err)
		return true
	}
	if !c.fits(size) {
		return false
	}
	r.Receipts = r.receiptSlice(len(r.items))
	marker := segment.Marker{Count: uint32(len(r.items)), FirstGlobal: c.st.global + 1}
	if err := c.pointErr(PointBatchBegin); err != nil {
		c.answer(r, err)
		return true
	}
	c.buf = segment.AppendMarker(c.buf, segment.TypeBatchBegin, marker)
	for i := range r.items {
		it := &r.items[i]
		if err := c.pointErr(PointBatchItem); err != nil {
			c.answer(r, err)
			return true
		}
		causation := it.Opts.Causation
		switch it.Cause.Kind {
		case event.CauseByItem:
			causation = r.Receipts[it.Cause.Index].ID
		case event.CauseByLatestOf:
			causation = r.Receipts[staged.latest[i]].ID
		case event.CauseByID:
			causation = it.Cause.ID
		}
		t, _ := c.loadTail(it.Coord.Entity()) // loaded by checkBatch
		c.stage(it, t, causation, it.Opts.Correlation, marker, &r.Receipts[i])
	}
	if err := c.pointErr(PointBatchCommit); err != nil {
		c.answer(r, err)
		return true
	}
	c.buf = segment.AppendMarker(c.buf, segment.TypeBatchCommit, marker)
	c.accept(r)
	return true
}

// batchPlan is what checkBatch learns: for CauseLatestOf items, the index
// of the earlier item they point at.
type batchPlan struct {
	latest map[int]int
}

// batchEntity is what checkBatch tracks of an entity as the batch goes.
type batchEntity struct {
	next uint64 // its next sequence
	last int    // the index of its latest item so far
}

// batchScratchMax bounds the entities whose scratch entries checkBatch
// keeps for the next batch: a map grown by one huge batch is dropped, so
// that clearing it does not cost every later batch.
const batchScratchMax = 4096

// checkBatch checks expected sequences (counting earlier items of the same
// batch) and causes (backwards only) and returns the batch's encoded size.
func (c *core) checkBatch(items []Item) (batchPlan, int, error) {
	plan := batchPlan{}
	if c.batchEntities == nil || len(c.batchEntities) > batchScratchMax {
		c.batchEntities = make(map[string]batchEntity)
	} else {
		clear(c.batchEntities)
	}
	seen := c.batchEntities
	size := 2 * segment.MarkerSize(segment.Marker{Count: uint32(len(items)), FirstGlobal: c.st.global + 1})
	for i := range items {
		it := &items[i]
		entity := it.Coord.Entity()
		be, ok := seen[entity]
		n := be.next
		if !ok {
			t, err := c.loadTail(entity)
			if err != nil {
				return plan, 0, err
			}
			n = t.next
		}
		if it.Opts.ExpectSequence && it.Opts.ExpectedSequence != n {
			return plan, 0, &event.BatchItemError{Item: i, Err: &event.SequenceMismatchError{
				Entity: entity, Expected: it.Opts.ExpectedSequence, Actual: n}}
		}
		switch it.Cause.Kind {
		case event.CauseNone:
		case event.CauseByItem:
			if it.Cause.Index < 0 || it.Cause.Index >= i {
				return plan, 0, &event.BatchItemError{Item: i, Err: fmt.Errorf(
					"%w: cause item %d is not an earlier item", event.ErrBatchInvalid, it.Cause.Index)}
			}
		case event.CauseByLatestOf:
			latest, ok := seen[it.Cause.Entity]
			j := latest.last
			if !ok {
				return plan, 0, &event.BatchItemError{Item: i, Err: fmt.Errorf(
					"%w: no earlier item of entity %q to be caused by", event.ErrBatchInvalid, it.Cause.Entity)}
			}
			if plan.latest == nil {
				plan.latest = map[int]int{}
			}
			plan.latest[i] = j
		case event.CauseByID:
			if it.Cause.ID.IsZero() {
				return plan, 0, &event.BatchItemError{Item: i, Err: fmt.Errorf("%w: explicit cause is the zero id", event.ErrBatchInvalid)}
			}
		default:
			return plan, 0, &event.BatchItemError{Item: i, Err: fmt.Errorf("%w: unknown cause kind %d", event.ErrBatchInvalid, it.Cause.Kind)}
		}
		seen[entity] = batchEntity{next: n + 1, last: i}
		size += segment.EncodedEventSize(&segment.EventRecord{
			IdemKey: it.Opts.IdempotencyKey, Entity: entity, Scope: it.Coord.Scope(), Payload: it.Payload,
		})
	}
	return plan, size, nil
}
