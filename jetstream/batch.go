package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/nats-io/nats.go"
)

// MaxBatch is the most items an atomic batch may hold: the server's limit
// (1,000 messages by default).
const MaxBatch = 1000

// AppendBatch appends items atomically with JetStream's atomic batch
// publish: the messages are staged on the server and stored all together
// on the commit message, or not at all. Each entity's first item carries
// the per-entity sequence check (the server allows only one per entity in
// a batch); the items after it in the batch follow from it. Everything the
// client can check — coordinates, kinds, causes, expected sequences,
// idempotency keys — is checked before anything is sent, and a failure
// rejects the whole batch with a *batpak.BatchItemError. A batch whose keyed
// items were all appended before returns their receipts (Replayed) if it
// repeats the original batch, as in the embedded store (see
// batpak.Store.AppendBatch); otherwise it is batpak.ErrDuplicate.
func (s *Store) AppendBatch(ctx context.Context, items []batpak.BatchItem) ([]batpak.Receipt, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	ds, err := s.batchDrafts(items)
	if err != nil {
		return nil, err
	}
	return s.appendDrafts(ctx, items, ds)
}

// AppendReactionBatch is AppendBatch with a correlation and causation set
// on every item that names none of its own (event.Reactions).
func (s *Store) AppendReactionBatch(ctx context.Context, correlation, causation batpak.ID, items []batpak.BatchItem) ([]batpak.Receipt, error) {
	return s.AppendBatch(ctx, event.Reactions(correlation, causation, items))
}

// appendDrafts stores a batch whose drafts ds were built and checked from
// items on the caller's goroutine (see AppendBatch).
func (s *Store) appendDrafts(ctx context.Context, items []batpak.BatchItem, ds []*draft) ([]batpak.Receipt, error) {
	if rs, done, err := s.replayBatch(ctx, ds); done || err != nil {
		return rs, err
	}
	// Lock the entities in a fixed order, so two batches never deadlock.
	var names []string
	for _, d := range ds {
		names = append(names, d.rec.Entity)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	states := make(map[string]*entityState, len(names))
	for _, n := range names {
		states[n] = s.acquire(n)
	}
	defer func() {
		for _, st := range states {
			s.release(st)
		}
	}()
	return s.commitBatch(ctx, items, ds, names, states)
}

// lostBatch is an attempt whose answer was lost: its first item's entity
// and the base its check named.
type lostBatch struct {
	entity string
	base   uint64
}

func (s *Store) commitBatch(ctx context.Context, items []batpak.BatchItem, ds []*draft, names []string, states map[string]*entityState) ([]batpak.Receipt, error) {
	var lost []lostBatch
	fresh, leader := false, false // as in AppendWithOptions
	for range maxRounds {
		if err := s.check(); err != nil {
			return nil, err
		}
		for _, n := range names {
			if st := states[n]; !st.known {
				if err := s.load(ctx, n, st, leader); err != nil {
					return nil, err
				}
				fresh = leader || s.opts.Replicas == 1
			}
		}
		msgs, stale, err := s.sealBatch(items, ds, states, fresh)
		if stale {
			for _, st := range states {
				st.known = false
			}
			leader = true
			continue
		}
		if err != nil {
			return nil, err
		}
		first := lostBatch{ds[0].rec.Entity, states[ds[0].rec.Entity].last}
		ack, uncertain, err := s.publishBatch(ctx, msgs)
		if uncertain {
			lost = append(lost, first)
		}
		switch {
		case err == nil:
			start := ack.Seq - uint64(len(ds)) + 1
			rs := make([]batpak.Receipt, len(ds))
			for i, d := range ds {
				st := states[d.rec.Entity]
				st.last, st.next, st.hash = start+uint64(i), d.rec.Sequence+1, d.self
				if rs[i], err = s.stored(ctx, d, start+uint64(i)); err != nil {
					return rs, err
				}
			}
			return rs, nil
		case wrongLastSeq(err) || apiCode(err) == codeBatchDuplicate:
			for _, st := range states {
				st.known = false
			}
			fresh, leader = false, true
			for _, l := range lost {
				ev, err := s.committedAfter(ctx, l.entity, l.base, ds[0].rec.ID)
				if err != nil {
					return nil, err
				}
				if ev != nil {
					return s.readBack(ctx, ds, ev.Global)
				}
			}
			if apiCode(err) == codeBatchDuplicate {
				// Another client appended some of these keys meanwhile.
				if rs, done, rerr := s.replayBatch(ctx, ds); done || rerr != nil {
					return rs, rerr
				}
				return nil, err
			}
		default:
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w: batch of %d", errConflictLoop, len(ds))
}

// batchDrafts validates and encodes every item and resolves causes.
func (s *Store) batchDrafts(items []batpak.BatchItem) ([]*draft, error) {
	switch {
	case len(items) == 0:
		return nil, batpak.ErrEmptyBatch
	case len(items) > MaxBatch:
		return nil, fmt.Errorf("%w: %d items exceeds %d", batpak.ErrBatchTooLarge, len(items), MaxBatch)
	}
	ds := make([]*draft, len(items))
	keys := map[string]int{}
	lastOf := map[string]int{}
	for i, it := range items {
		d, err := s.newDraft(it.Coord, it.Kind, it.Payload, it.Options)
		if err != nil {
			return nil, &batpak.BatchItemError{Item: i, Err: err}
		}
		if k := it.Options.IdempotencyKey; k != "" {
			if j, dup := keys[k]; dup {
				return nil, &batpak.BatchItemError{Item: i, Err: fmt.Errorf("%w: key %q repeats item %d", batpak.ErrDuplicate, k, j)}
			}
			keys[k] = i
		}
		switch c := it.Cause; c.Kind {
		case event.CauseNone:
		case event.CauseByItem:
			if c.Index < 0 || c.Index >= i {
				return nil, &batpak.BatchItemError{Item: i, Err: fmt.Errorf("%w: cause item %d is not an earlier item", batpak.ErrBatchInvalid, c.Index)}
			}
			d.rec.Causation = ds[c.Index].rec.ID
		case event.CauseByLatestOf:
			j, ok := lastOf[c.Entity]
			if !ok {
				return nil, &batpak.BatchItemError{Item: i, Err: fmt.Errorf("%w: no earlier item of entity %q to be caused by", batpak.ErrBatchInvalid, c.Entity)}
			}
			d.rec.Causation = ds[j].rec.ID
		case event.CauseByID:
			if c.ID.IsZero() {
				return nil, &batpak.BatchItemError{Item: i, Err: fmt.Errorf("%w: explicit cause is the zero id", batpak.ErrBatchInvalid)}
			}
			d.rec.Causation = c.ID
		default:
			return nil, &batpak.BatchItemError{Item: i, Err: fmt.Errorf("%w: unknown cause kind %d", batpak.ErrBatchInvalid, c.Kind)}
		}
		lastOf[d.rec.Entity] = i
		ds[i] = d
	}
	return ds, nil
}

// sealBatch numbers and encodes the items on the entities' states. stale
// asks for the states to be reloaded: an expected sequence failed against
// states that were not just read from the leader.
func (s *Store) sealBatch(items []batpak.BatchItem, ds []*draft, states map[string]*entityState, fresh bool) ([]*nats.Msg, bool, error) {
	type run struct {
		next, base uint64
		hash       [32]byte
		checked    bool
	}
	runs := make(map[string]*run, len(states))
	for n, st := range states {
		runs[n] = &run{next: st.next, base: st.last, hash: st.hash}
	}
	batchID := event.NewID().String()
	msgs := make([]*nats.Msg, len(ds))
	for i, d := range ds {
		r := runs[d.rec.Entity]
		if o := items[i].Options; o.ExpectSequence && r.next != o.ExpectedSequence {
			if !fresh {
				return nil, true, nil
			}
			return nil, false, &batpak.BatchItemError{Item: i, Err: &batpak.SequenceMismatchError{
				Entity: d.rec.Entity, Expected: o.ExpectedSequence, Actual: r.next}}
		}
		d.rec.Sequence = r.next
		// Only an entity's first write in a batch may carry the check.
		m := d.seal(r.hash, r.base, !r.checked, s.subj.entity(d.rec.Entity))
		r.checked = true
		r.next++
		r.hash = d.self
		m.Header[hdrBatchID] = []string{batchID}
		m.Header[hdrBatchSeq] = []string{strconv.Itoa(i + 1)}
		if i == len(ds)-1 {
			m.Header[hdrBatchCommit] = []string{"1"}
		}
		msgs[i] = m
	}
	return msgs, false, nil
}

// publishBatch sends a sealed batch: the staged messages without waiting,
// then the commit as a request. A retried attempt sends the whole batch
// again under a new batch id; its message ids and checks keep it from being
// stored twice.
func (s *Store) publishBatch(ctx context.Context, msgs []*nats.Msg) (pubAck, bool, error) {
	last := msgs[len(msgs)-1]
	stage := func(batchID string) error {
		for i, m := range msgs {
			m.Header[hdrBatchID] = []string{batchID}
			if i < len(msgs)-1 {
				if err := s.nc.PublishMsg(m); err != nil {
					return err
				}
			}
		}
		return nil
	}
	var (
		ack       pubAck
		uncertain bool
		err       error
	)
	for attempt := 0; attempt < s.opts.Attempts; attempt++ {
		if attempt > 0 {
			if werr := backoff(ctx, s.done, attempt); werr != nil {
				break
			}
			if err = stage(event.NewID().String()); err != nil {
				return ack, uncertain, fmt.Errorf("jetstream: batch publish: %w", err)
			}
		} else if len(msgs) > 1 {
			if err = stage(last.Header.Get(hdrBatchID)); err != nil {
				return ack, uncertain, fmt.Errorf("jetstream: batch publish: %w", err)
			}
		}
		ack, uncertain, err = s.publishOnce(ctx, last, uncertain)
		if err == nil || !retryableBatch(err) || ctx.Err() != nil {
			break
		}
	}
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w (%w)", err, ctx.Err())
	}
	if err != nil && uncertain && !errors.Is(err, batpak.ErrOutcomeUnknown) && apiCode(err) == 0 {
		err = fmt.Errorf("%w: %w", batpak.ErrOutcomeUnknown, err)
	}
	return ack, uncertain, err
}

// retryableBatch: besides lost answers, an incomplete batch (a staged
// message lost on the way, or staged on a leader that has since changed)
// is retried whole.
func retryableBatch(err error) bool {
	return retryable(err) || apiCode(err) == codeBatchIncomplete || errors.Is(err, nats.ErrNoResponders)
}

// publishOnce makes one attempt of a commit request.
func (s *Store) publishOnce(ctx context.Context, m *nats.Msg, uncertain bool) (pubAck, bool, error) {
	var ack pubAck
	actx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	resp, err := s.nc.RequestMsgWithContext(actx, m)
	cancel()
	if err == nil && s.opts.LoseAcks != nil && s.opts.LoseAcks() {
		err = nats.ErrTimeout
	}
	if err != nil {
		if retryable(err) && !errors.Is(err, nats.ErrNoResponders) {
			uncertain = true
		}
		return ack, uncertain, err
	}
	if err := json.Unmarshal(resp.Data, &ack); err != nil {
		return ack, uncertain, err
	}
	if ack.Error != nil {
		return ack, uncertain, ack.Error
	}
	return ack, uncertain, nil
}

// readBack builds the receipts of a batch whose commit answer was lost
// from the stored events, which start at global sequence start.
func (s *Store) readBack(ctx context.Context, ds []*draft, start uint64) ([]batpak.Receipt, error) {
	rs := make([]batpak.Receipt, len(ds))
	for i, d := range ds {
		ev, err := s.eventAt(ctx, start+uint64(i))
		if err != nil {
			return nil, err
		}
		if ev.ID != d.rec.ID {
			return nil, fmt.Errorf("%w: batch item %d is not at %d", batpak.ErrCorrupt, i, start+uint64(i))
		}
		rs[i] = receiptOf(ev)
		s.indexID(ev.ID, ev.Global)
		if d.rec.IdemKey != "" {
			if err := s.indexKey(ctx, d.rec.IdemKey, ev.Global); err != nil {
				return rs, err
			}
		}
	}
	return rs, nil
}

// replayBatch applies the idempotency rules to a batch: every keyed item
// already appended (and no unkeyed item) makes it a retry, answered with
// the original receipts, if each item names the same event as before and
// the batch repeats the original batch (sameBatch); some but not all is an
// error.
func (s *Store) replayBatch(ctx context.Context, ds []*draft) ([]batpak.Receipt, bool, error) {
	var prev []batpak.Receipt
	withKey, firstNew := 0, -1
	for i, d := range ds {
		if d.rec.IdemKey == "" {
			if firstNew < 0 {
				firstNew = i
			}
			continue
		}
		withKey++
		r, ok, err := s.replayKey(ctx, d)
		if err != nil {
			return nil, false, &batpak.BatchItemError{Item: i, Err: err}
		}
		if !ok {
			if firstNew < 0 {
				firstNew = i
			}
			continue
		}
		prev = append(prev, r)
	}
	switch {
	case len(prev) == 0:
		return nil, false, nil
	case len(prev) == len(ds):
		if err := s.sameBatch(ctx, prev); err != nil {
			return nil, false, err
		}
		return prev, true, nil
	}
	return nil, false, &batpak.BatchItemError{Item: firstNew, Err: fmt.Errorf(
		"%w: %d of %d keyed items were already appended; a retry must repeat the whole batch", batpak.ErrDuplicate, len(prev), withKey)}
}

// sameBatch checks that a retried batch of two or more items repeats the
// original batch: one batch of exactly these events, in this order. The
// events are at consecutive stream sequences in item order, and the first
// and the last are the first and the last message of one stored batch (the
// headers it was published with: see batchread.go). A batch of one is
// checked as a single append is, by its event alone. The embedded store
// applies the same rule.
func (s *Store) sameBatch(ctx context.Context, prev []batpak.Receipt) error {
	if len(prev) < 2 {
		return nil
	}
	first, last := prev[0].Global, prev[len(prev)-1].Global
	for i := range prev {
		if prev[i].Global != first+uint64(i) {
			return &batpak.BatchItemError{Item: i, Err: fmt.Errorf(
				"%w: the keys were first used by other appends or in another order (item %d was global %d, item 0 global %d); a retry must repeat the original batch",
				batpak.ErrDuplicate, i, prev[i].Global, first)}
		}
	}
	h0, err := s.headersAt(ctx, first)
	if err != nil {
		return err
	}
	hn, err := s.headersAt(ctx, last)
	if err != nil {
		return err
	}
	id := h0.Get(hdrBatchID)
	if id == "" || h0.Get(hdrBatchSeq) != "1" || hn.Get(hdrBatchID) != id || hn.Get(hdrBatchCommit) == "" {
		return &batpak.BatchItemError{Item: 0, Err: fmt.Errorf(
			"%w: the keys were first used by appends other than one batch of these %d items; a retry must repeat the original batch",
			batpak.ErrDuplicate, len(prev))}
	}
	return nil
}

// headersAt returns the headers of the message at stream sequence seq.
func (s *Store) headersAt(ctx context.Context, seq uint64) (nats.Header, error) {
	m, err := s.directGet(ctx, msgGetRequest{Seq: seq})
	if errors.Is(err, batpak.ErrNotFound) && s.opts.Replicas > 1 {
		_, hdr, err := s.getMsg(ctx, msgGetRequest{Seq: seq})
		return hdr, err
	}
	if err != nil {
		return nil, err
	}
	return m.hdr, nil
}
