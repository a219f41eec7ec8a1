package writer

import (
	"fmt"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/segment"
)

// appendBatch validates a whole batch against the log's end (and against
// its own earlier items), then writes BEGIN, the items and COMMIT into the
// buffer. Any failure rejects the batch before a byte is buffered.
func (w *Writer) appendBatch(r *Request) {
	if replayed, err := w.batchKeys(r); err != nil || replayed {
		if err != nil {
			w.answer(r, err)
		}
		return
	}
	staged, size, err := w.checkBatch(r.Items)
	if err != nil {
		w.answer(r, err)
		return
	}
	if err := w.reserve(len(r.Items)); err != nil {
		w.answer(r, err)
		return
	}
	if err := w.room(size); err != nil {
		w.answer(r, err)
		return
	}
	r.Receipts = r.receiptSlice(len(r.Items))
	marker := segment.Marker{Count: uint32(len(r.Items)), FirstGlobal: w.st.global + 1}
	if err := w.inject(PointBatchBegin); err != nil {
		w.fail.set(err)
		w.answer(r, w.fail.get())
		return
	}
	w.buf = segment.AppendMarker(w.buf, segment.TypeBatchBegin, marker)
	for i := range r.Items {
		it := &r.Items[i]
		if err := w.inject(PointBatchItem); err != nil {
			w.fail.set(err)
			w.answer(r, w.fail.get())
			return
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
		t, _ := w.loadTail(it.Coord.Entity()) // loaded by checkBatch
		w.stage(it, t, causation, it.Opts.Correlation, marker, &r.Receipts[i])
	}
	if err := w.inject(PointBatchCommit); err != nil {
		w.fail.set(err)
		w.answer(r, w.fail.get())
		return
	}
	w.buf = segment.AppendMarker(w.buf, segment.TypeBatchCommit, marker)
	w.accept(r)
}

// batchPlan is what checkBatch learns: for CauseLatestOf items, the index
// of the earlier item they point at.
type batchPlan struct {
	latest map[int]int
}

// checkBatch checks expected sequences (counting earlier items of the same
// batch) and causes (backwards only) and returns the batch's encoded size.
func (w *Writer) checkBatch(items []Item) (batchPlan, int, error) {
	plan := batchPlan{}
	next := map[string]uint64{}  // entity → next sequence as the batch goes
	lastItem := map[string]int{} // entity → index of its latest item so far
	size := 2 * segment.MarkerSize(segment.Marker{Count: uint32(len(items)), FirstGlobal: w.st.global + 1})
	for i := range items {
		it := &items[i]
		entity := it.Coord.Entity()
		n, ok := next[entity]
		if !ok {
			t, err := w.loadTail(entity)
			if err != nil {
				return plan, 0, err
			}
			n = t.next
		}
		if it.Opts.ExpectSequence && it.Opts.ExpectedSequence != n {
			return plan, 0, &BatchItemError{Item: i, Err: &SequenceMismatchError{
				Entity: entity, Expected: it.Opts.ExpectedSequence, Actual: n}}
		}
		switch it.Cause.Kind {
		case event.CauseByItem:
			if it.Cause.Index < 0 || it.Cause.Index >= i {
				return plan, 0, &BatchItemError{Item: i, Err: fmt.Errorf(
					"%w: cause item %d is not an earlier item", ErrBatchInvalid, it.Cause.Index)}
			}
		case event.CauseByLatestOf:
			j, ok := lastItem[it.Cause.Entity]
			if !ok {
				return plan, 0, &BatchItemError{Item: i, Err: fmt.Errorf(
					"%w: no earlier item of entity %q to be caused by", ErrBatchInvalid, it.Cause.Entity)}
			}
			if plan.latest == nil {
				plan.latest = map[int]int{}
			}
			plan.latest[i] = j
		case event.CauseByID:
			if it.Cause.ID.IsZero() {
				return plan, 0, &BatchItemError{Item: i, Err: fmt.Errorf("%w: explicit cause is the zero id", ErrBatchInvalid)}
			}
		}
		next[entity] = n + 1
		lastItem[entity] = i
		size += segment.EncodedEventSize(&segment.EventRecord{
			IdemKey: it.Opts.IdempotencyKey, Entity: entity, Scope: it.Coord.Scope(), Payload: it.Payload,
		})
	}
	return plan, size, nil
}
