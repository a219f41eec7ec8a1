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
//
// With Options.ReceiptSigner every receipt is signed.
func (s *Store) AppendBatch(ctx context.Context, items []batpak.BatchItem) ([]batpak.Receipt, error) {
	rs, err := s.appendBatch(ctx, items)
	if err == nil {
		for i := range rs {
			s.sign(&rs[i])
		}
	}
	return rs, err
}

// appendBatch is AppendBatch before the receipts are signed.
func (s *Store) appendBatch(ctx context.Context, items []batpak.BatchItem) ([]batpak.Receipt, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	ds, err := s.batchDrafts(ctx, items)
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
	busy := 0
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
		case err == nil && ack.Duplicate:
			// The server took the batch for a repeat of messages it
			// stored before: an attempt of this call whose answer was
			// lost (perhaps of an earlier round, sealed on another base),
			// or keys another append used.
			for _, st := range states {
				st.known = false
			}
			return s.resolveBatchDuplicate(ctx, ds, ack.Seq)
		case err == nil:
			start := ack.Seq - uint64(len(ds)) + 1
			rs := make([]batpak.Receipt, len(ds))
			for i, d := range ds {
				states[d.rec.Entity].advance(start+uint64(i), d.self)
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
			if apiCode(err) == codeBatchDuplicate && !slices.Contains(lost, first) {
				// Event ids are unique, so a message id of this batch that
				// is stored, or being stored, is a key another append used,
				// or this very attempt's: an earlier attempt of it stored
				// (or storing) it with no answer lost that said so.
				lost = append(lost, first)
			}
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
				// Another client appended some of these keys meanwhile,
				// or this batch was stored before and its keys never
				// indexed (the server still remembers their message ids).
				if rs, done, rerr := s.replayBatch(ctx, ds); done || rerr != nil {
					return rs, rerr
				}
				if rs, done, rerr := s.findUnindexed(ctx, ds); done || rerr != nil {
					return rs, rerr
				}
				// An attempt of this call not stored yet (its messages
				// are still being replicated): wait for it as for an
				// unfinished write.
			}
			if apiCode(err) == codeBatchDuplicate || apiCode(err) == codeWrongLastSeqConst {
				if err := s.waitUnfinished(ctx, err, &busy, len(lost) > 0); err != nil {
					return nil, fmt.Errorf("%w (batch of %d)", err, len(ds))
				}
			}
		default:
			return nil, err
		}
	}
	return nil, conflictLoop(len(lost) > 0, fmt.Sprintf("batch of %d", len(ds)))
}

// resolveBatchDuplicate answers a batch the server acknowledged as a
// duplicate of the message at stream sequence seq: if that message is one
// of the batch's own events, the batch is where it says, read back from
// the stream; else the keys decide (replayBatch).
func (s *Store) resolveBatchDuplicate(ctx context.Context, ds []*draft, seq uint64) ([]batpak.Receipt, error) {
	ev, err := s.eventAt(ctx, seq)
	if err != nil {
		return nil, err
	}
	for j, d := range ds {
		if ev.ID == d.rec.ID && seq > uint64(j) {
			return s.readBack(ctx, ds, seq-uint64(j))
		}
	}
	if rs, done, err := s.replayBatch(ctx, ds); done || err != nil {
		return rs, err
	}
	return nil, fmt.Errorf("%w: the batch was taken for a repeat of stream sequence %d, which holds none of its events", batpak.ErrDuplicate, seq)
}

// batchDrafts validates and encodes every item and resolves causes.
func (s *Store) batchDrafts(ctx context.Context, items []batpak.BatchItem) ([]*draft, error) {
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
		d, err := s.newDraft(ctx, it.Coord, it.Kind, it.Payload, it.Options)
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
		links      []link // the next item's links; items of this batch by index
		linked     bool
	}
	runs := make(map[string]*run, len(states))
	for n, st := range states {
		runs[n] = &run{next: st.next, base: st.last, hash: st.hash, links: st.links, linked: st.linked}
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
		links := ""
		if r.linked && len(r.links) > 0 {
			links = formatLinks(r.links, i)
		}
		m := d.seal(r.hash, r.base, !r.checked, s.subj.entity(d.rec.Entity), links)
		if r.linked {
			r.links, r.linked = nextLinks(r.next, link{item: i}, r.links)
		}
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
	switch {
	case err == nil || errors.Is(err, batpak.ErrOutcomeUnknown):
	case uncertain && (apiCode(err) == 0 || retryableBatch(err)):
		// No answer decided the last attempt, and an earlier one (or
		// another with these message ids) may be stored.
		err = fmt.Errorf("%w: %w", batpak.ErrOutcomeUnknown, err)
	case retryableBatch(err):
		// Every attempt went unanswered or was refused as "not now".
		err = fmt.Errorf("%w: batch publish: %w", ErrUnavailable, err)
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
		if ack.Error.ErrCode == codeMsgIDInProcess {
			uncertain = true // an attempt with these message ids is still being stored
		}
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
// error — unless the keys missing from the index are those of a batch
// stored whole whose indexing stopped part way (recoverBatch).
func (s *Store) replayBatch(ctx context.Context, ds []*draft) ([]batpak.Receipt, bool, error) {
	var prev []batpak.Receipt
	withKey, firstNew, firstOld := 0, -1, -1
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
		if firstOld < 0 {
			firstOld = i
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
	case withKey == len(ds):
		if rs, ok, err := s.recoverBatch(ctx, ds, firstOld, prev[0].Global); ok || err != nil {
			return rs, ok, err
		}
	}
	return nil, false, &batpak.BatchItemError{Item: firstNew, Err: fmt.Errorf(
		"%w: %d of %d keyed items were already appended; a retry must repeat the whole batch", batpak.ErrDuplicate, len(prev), withKey)}
}

// recoverBatch answers a retry of a batch, all of whose items are keyed,
// when only some of its keys are in the index: the store appending it
// indexes the keys one by one after the batch is stored, and a failure
// part way (the index bucket unreachable) leaves the rest out. Item i's
// key names stream sequence seq; if the batch stored around it holds
// exactly these items — each the same event (replayOf) with its key, at
// consecutive sequences, one stored batch (sameBatch) — the retry is
// answered with its receipts and the missing keys are indexed. ok is false
// if it is not such a batch.
func (s *Store) recoverBatch(ctx context.Context, ds []*draft, i int, seq uint64) ([]batpak.Receipt, bool, error) {
	if seq <= uint64(i) {
		return nil, false, nil
	}
	start := seq - uint64(i)
	rs := make([]batpak.Receipt, len(ds))
	for j, d := range ds {
		ev, err := s.eventAt(ctx, start+uint64(j))
		if errors.Is(err, batpak.ErrNotFound) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		if ev.IdempotencyKey != d.rec.IdemKey {
			return nil, false, nil
		}
		if rs[j], err = replayOf(ev, d); err != nil {
			return nil, false, nil
		}
	}
	if err := s.sameBatch(ctx, rs); err != nil {
		return nil, false, nil
	}
	for j, d := range ds {
		if err := s.indexKey(ctx, d.rec.IdemKey, rs[j].Global); err != nil {
			return rs, true, fmt.Errorf("jetstream: batch found stored at %d, but its idempotency keys were not indexed: %w", start, err)
		}
	}
	return rs, true, nil
}

// findUnindexed answers a retry of a batch, all of whose items are keyed,
// that the server refused as holding message ids it stored within its
// duplicate window while none of the keys is in the index: the batch was
// stored and its keys never indexed. The first item's key is looked for
// among its entity's events stored within the window (read through their
// links), and recoverBatch checks the batch around it.
func (s *Store) findUnindexed(ctx context.Context, ds []*draft) ([]batpak.Receipt, bool, error) {
	for _, d := range ds {
		if d.rec.IdemKey == "" {
			return nil, false, nil
		}
	}
	since := s.opts.Clock().Add(-s.opts.DuplicateWindow - s.opts.IDWindow)
	var msgs []rawMsg
	err := s.retry(ctx, "direct get", func(ctx context.Context) error {
		var err error
		msgs, _, err = s.scanPage(ctx, s.opts.Stream, directRequest{StartTime: &since, Batch: 1}, 0)
		return err
	})
	if err != nil || len(msgs) == 0 {
		return nil, false, err
	}
	var seq uint64
	err = s.each(ctx, event.ForEntity(ds[0].rec.Entity), msgs[0].seq-1, 0, func(ev *event.StoredEvent) error {
		if ev.IdempotencyKey == ds[0].rec.IdemKey {
			seq = ev.Global
			return errStop
		}
		return nil
	})
	if err != nil || seq == 0 {
		return nil, false, err
	}
	return s.recoverBatch(ctx, ds, 0, seq)
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
