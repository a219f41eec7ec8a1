package writer

import (
	"errors"
	"fmt"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/segment"
)

// Idempotency keys. A retry with a key already used must name the same
// event — coordinate, kind and payload (event.SamePayload) — and a retried
// batch must be the same batch; anything else is ErrDuplicate, never a
// silent replay of the first event. Other options (expected sequence,
// correlation, causation, flags) are not compared.
//
// The check costs nothing on the path of a new key, and keeps no copy of a
// payload: a key published to the index is checked against its first event
// read back from its segment (so it holds after a restart, a checkpoint
// load or a compaction, with no format change), and a key this writer
// wrote and has not yet seen published, against the frame it wrote, read
// back from its buffer or segment file (the caller's payload slice may have
// changed since: a []byte payload is the caller's).

// keyRef is an idempotency key written by this writer and perhaps not yet
// published; older keys are found in the index.
type keyRef struct {
	receipt event.Receipt
	seg     uint64 // where its frame is: segment, offset and size
	off     int64
	size    uint32
	batch   segment.Marker // the batch the event was written in; Count 0 for a single append
}

// seenKey is an earlier append with an idempotency key, as a retry is
// checked against it: written by this writer and maybe not yet published
// (ref), or read back (ev, at entry).
type seenKey struct {
	receipt event.Receipt
	ref     *keyRef
	ev      *event.StoredEvent
	entry   index.Entry
}

// lookupKey finds an earlier append with this idempotency key.
func (c *core) lookupKey(key string) (seenKey, bool, error) {
	if k, ok := c.st.keys[key]; ok {
		return seenKey{receipt: k.receipt, ref: &k}, true, nil
	}
	e, ok := c.idx.LookupKey(key)
	if !ok {
		return seenKey{}, false, nil
	}
	ev, err := c.log.loadEvent(e)
	if err != nil {
		return seenKey{}, false, err
	}
	return seenKey{receipt: ReceiptOf(ev), ev: ev, entry: e}, true, nil
}

// rememberKey records a key written now, with where its frame is.
func (c *core) rememberKey(key string, r event.Receipt, seg uint64, off int64, size uint32, batch segment.Marker) {
	c.st.keys[key] = keyRef{receipt: r, seg: seg, off: off, size: size, batch: batch}
	c.st.keyFIFO = append(c.st.keyFIFO, keyFIFOEntry{r.Global, key})
}

// frameOf reads back the frame of a key this writer wrote: from buf if not
// yet written, else from its segment.
func (c *core) frameOf(k *keyRef) ([]byte, error) {
	frame := make([]byte, k.size)
	if k.seg == c.seg && k.off >= c.end {
		copy(frame, c.buf[k.off-c.end:])
		return frame, nil
	}
	if err := c.log.readFrame(k.seg, frame, k.off); err != nil {
		return nil, err
	}
	return frame, nil
}

// payloadOf returns the codec, payload and payload version of a seen
// key's first event (a sealed one opened); a payload that can no longer be
// read (shredded) is the error.
func (c *core) payloadOf(p *seenKey) (event.Codec, []byte, uint32, error) {
	if p.ev != nil {
		if err := p.ev.PayloadErr; err != nil {
			return 0, nil, 0, fmt.Errorf("%w: the key's first event (global %d) cannot be compared: %w", ErrDuplicate, p.receipt.Global, err)
		}
		return p.ev.Codec, p.ev.Payload, p.ev.PayloadVersion, nil
	}
	frame, err := c.frameOf(p.ref)
	if err != nil {
		return 0, nil, 0, err
	}
	body, _, err := segment.ReadFrame(frame)
	var v segment.EventView
	if err == nil {
		err = segment.ParseEventFields(body, &v)
	}
	if err != nil {
		return 0, nil, 0, fmt.Errorf("batpak: reading back event %d: %w", p.receipt.Global, err)
	}
	if v.Sealed {
		var ev event.StoredEvent
		v.ToStored(&ev)
		if c.log.opener != nil && !segment.IsStripped(&v) {
			pl, err := c.log.opener.Open(&v, true)
			if err != nil && !errors.Is(err, event.ErrShredded) {
				return 0, nil, 0, fmt.Errorf("batpak: reading back event %d: %w", p.receipt.Global, err)
			}
			ev.Payload, ev.PayloadErr = pl, err
		}
		if ev.PayloadErr != nil {
			return 0, nil, 0, fmt.Errorf("%w: the key's first event (global %d) cannot be compared: %w", ErrDuplicate, p.receipt.Global, ev.PayloadErr)
		}
		return v.Codec, ev.Payload, v.PayloadVersion, nil
	}
	return v.Codec, v.Payload, v.PayloadVersion, nil
}

// pruneKeys forgets keys the index now holds.
func (c *core) pruneKeys() {
	if len(c.st.keyFIFO) > 0 {
		c.forgetKeysThrough(c.idx.LastGlobal())
	}
}

// forgetKeysThrough forgets the keys of events at or below global.
func (c *core) forgetKeysThrough(global uint64) {
	n := 0
	for n < len(c.st.keyFIFO) && c.st.keyFIFO[n].global <= global {
		delete(c.st.keys, c.st.keyFIFO[n].key)
		n++
	}
	if n > 0 {
		c.st.keyFIFO = append(c.st.keyFIFO[:0], c.st.keyFIFO[n:]...)
	}
}

// sameEvent checks that a retried idempotent append names the event its
// key was first used for.
func (c *core) sameEvent(key string, p *seenKey, it *Item) error {
	r := &p.receipt
	if r.Coordinate != it.Coord || r.Kind != it.Kind {
		return fmt.Errorf("%w: key %q was first used for %s kind %v (global %d), not %s kind %v",
			ErrDuplicate, key, r.Coordinate, r.Kind, r.Global, it.Coord, it.Kind)
	}
	codec, payload, version, err := c.payloadOf(p)
	if err != nil {
		return err
	}
	if version != it.Version || !event.SamePayload(codec, payload, it.Codec, it.Plaintext()) {
		return fmt.Errorf("%w: key %q was first used for an event with another payload (global %d)", ErrDuplicate, key, r.Global)
	}
	return nil
}

// batchKeys applies the idempotency rules to a batch: if every item carries
// a key already seen, the batch is a retry and gets the original receipts,
// provided it is the same batch (sameBatch) of the same events; if only
// some do, the batch is rejected; keys must be unique in the batch.
func (c *core) batchKeys(r *Request) (replayed bool, err error) {
	var prev []seenKey
	withKey, firstNew := 0, -1
	inBatch := map[string]int{}
	for i := range r.items {
		key := r.items[i].Opts.IdempotencyKey
		if key == "" {
			if firstNew < 0 {
				firstNew = i
			}
			continue
		}
		withKey++
		if j, dup := inBatch[key]; dup {
			return false, &event.BatchItemError{Item: i, Err: fmt.Errorf("%w: key %q repeats item %d", ErrDuplicate, key, j)}
		}
		inBatch[key] = i
		p, found, err := c.lookupKey(key)
		if err != nil {
			return false, err
		}
		if found {
			if err := c.sameEvent(key, &p, &r.items[i]); err != nil {
				return false, &event.BatchItemError{Item: i, Err: err}
			}
			prev = append(prev, p)
		} else if firstNew < 0 {
			firstNew = i
		}
	}
	switch {
	case len(prev) == 0:
		return false, nil
	case len(prev) == len(r.items):
		if err := c.sameBatch(prev); err != nil {
			return false, err
		}
		receipts := make([]event.Receipt, len(prev))
		for i := range prev {
			receipts[i] = prev[i].receipt
		}
		c.replay(r, receipts...)
		return true, nil
	}
	return false, &event.BatchItemError{Item: firstNew, Err: fmt.Errorf(
		"%w: %d of %d keyed items were already appended; a retry must repeat the whole batch", ErrDuplicate, len(prev), withKey)}
}

// sameBatch checks that a retried batch of two or more items, each of
// whose keys names the same event as before, repeats the original batch:
// one batch of exactly these events, in this order. (The index does not
// record batches: a published batch is recognised by the BEGIN marker
// written right before its first event, which compaction keeps there.) A
// batch of one is checked as a single append is, by its event alone.
func (c *core) sameBatch(prev []seenKey) error {
	if len(prev) < 2 {
		return nil
	}
	first := prev[0].receipt.Global
	for i := range prev {
		if prev[i].receipt.Global != first+uint64(i) {
			return &event.BatchItemError{Item: i, Err: fmt.Errorf(
				"%w: the keys were first used by other appends or in another order (item %d was global %d, item 0 global %d); a retry must repeat the original batch",
				ErrDuplicate, i, prev[i].receipt.Global, first)}
		}
	}
	want := segment.Marker{Count: uint32(len(prev)), FirstGlobal: first}
	var whole bool
	if p := prev[0]; p.ref != nil {
		whole = p.ref.batch == want
	} else {
		var err error
		if whole, err = c.log.beginsBatch(p.entry, len(prev)); err != nil {
			return err
		}
	}
	if !whole {
		return &event.BatchItemError{Item: 0, Err: fmt.Errorf(
			"%w: the keys were first used by appends other than one batch of these %d items; a retry must repeat the original batch",
			ErrDuplicate, len(prev))}
	}
	return nil
}
