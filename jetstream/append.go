package jetstream

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/segment"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// maxRounds bounds how often one append is rebuilt after losing a race
// for its entity to another client.
const maxRounds = 64

// Append appends an event and returns its receipt once the stream has
// stored it (on a replicated stream: on a quorum).
func (s *Store) Append(ctx context.Context, coord batpak.Coordinate, kind batpak.EventKind, payload any) (batpak.Receipt, error) {
	return s.AppendWithOptions(ctx, coord, kind, payload, batpak.AppendOptions{})
}

// AppendReaction appends an event of workflow correlation caused by
// causation.
func (s *Store) AppendReaction(ctx context.Context, coord batpak.Coordinate, kind batpak.EventKind, payload any, correlation, causation batpak.ID) (batpak.Receipt, error) {
	return s.AppendWithOptions(ctx, coord, kind, payload, batpak.AppendOptions{Correlation: correlation, Causation: causation})
}

// AppendWithOptions appends with an expected sequence, an idempotency key,
// correlation, causation or flags (Durability is ignored: see Sync).
//
// Every append carries the server-side check that the entity's newest event
// is still the one its sequence and chain hash were computed from; when
// another client got there first, the append is rebuilt on the new newest
// event, or, if it named an expected sequence, fails with a
// *batpak.SequenceMismatchError. An attempt whose answer is lost is retried
// with the same check and message id (on a single server, only a keyed
// append has one), so it is stored at most once.
//
// What it refuses before sending anything is what the embedded store
// refuses (event.CheckAppend, Limits): an invalid coordinate, a kind of a
// reserved category (batpak.ErrInvalidKind), an over-long idempotency key,
// a payload above MaxPayload. A key already used is a replay only for the
// same event (coordinate, kind and payload); otherwise batpak.ErrDuplicate.
//
// With Options.ReceiptSigner the receipt, a replay's too, is signed.
func (s *Store) AppendWithOptions(ctx context.Context, coord batpak.Coordinate, kind batpak.EventKind, payload any, opts batpak.AppendOptions) (batpak.Receipt, error) {
	r, err := s.appendWithOptions(ctx, coord, kind, payload, opts)
	if err == nil {
		s.sign(&r)
	}
	return r, err
}

// appendWithOptions is AppendWithOptions before the receipt is signed.
func (s *Store) appendWithOptions(ctx context.Context, coord batpak.Coordinate, kind batpak.EventKind, payload any, opts batpak.AppendOptions) (batpak.Receipt, error) {
	if err := s.check(); err != nil {
		return batpak.Receipt{}, err
	}
	d, err := s.newDraft(ctx, coord, kind, payload, opts)
	if err != nil {
		return batpak.Receipt{}, err
	}
	return s.appendDraft(ctx, d, opts)
}

// appendDraft stores d, built and checked on the caller's goroutine (see
// AppendWithOptions).
func (s *Store) appendDraft(ctx context.Context, d *draft, opts batpak.AppendOptions) (batpak.Receipt, error) {
	coord := d.coord
	if opts.IdempotencyKey != "" {
		if r, ok, err := s.replayKey(ctx, d); err != nil || ok {
			return r, err
		}
	}
	if opts.IdempotencyKey == "" && s.opts.Replicas == 1 && !d.imported {
		// No message id: a single server runs the sequence check every
		// append carries before its duplicate check, so a repeat of an
		// attempt that committed fails the check (and the loop below finds
		// the attempt) before its id could matter; the id would only cost
		// the server a de-duplication entry per append for the whole
		// window. A replicated stream checks ids first, and there the id
		// also covers an attempt still in flight when its repeat arrives.
		d.msgID = ""
	}
	entity := coord.Entity()
	entSubj := s.subj.entity(entity)
	st := s.acquire(entity)
	defer s.release(st)
	var lost []uint64 // bases of attempts whose answer was lost
	// fresh: st was just read from the leader, so a mismatch with an
	// expected sequence is real. leader: read from the leader, not with a
	// direct get a follower may answer (after a failed check).
	fresh, leader := false, false
	busy := 0 // rounds refused because the leader holds an unfinished write on the entity
	for range maxRounds {
		if err := s.check(); err != nil {
			return batpak.Receipt{}, err
		}
		if !st.known {
			if err := s.load(ctx, entity, st, leader); err != nil {
				return batpak.Receipt{}, err
			}
			fresh = leader || s.opts.Replicas == 1
		}
		if opts.ExpectSequence && st.next != opts.ExpectedSequence {
			if !fresh { // the cached state may be stale: ask the leader once
				st.known, leader = false, true
				continue
			}
			return batpak.Receipt{}, &batpak.SequenceMismatchError{Entity: entity, Expected: opts.ExpectedSequence, Actual: st.next}
		}
		d.rec.Sequence = st.next
		m := d.seal(st.hash, st.last, true, entSubj, st.linkHeader())
		ack, uncertain, err := s.publish(ctx, m)
		if uncertain {
			lost = append(lost, st.last)
		}
		switch {
		case err == nil && !ack.Duplicate:
			st.advance(ack.Seq, d.self)
			return s.stored(ctx, d, ack.Seq)
		case err == nil:
			st.known = false
			return s.resolveDuplicate(ctx, d, ack.Seq)
		case wrongLastSeq(err):
			st.known, fresh, leader = false, false, true
			// On a single server the sequence check runs before the
			// duplicate check: a lost attempt that committed shows up as a
			// conflict. Its event sits right after the base it was built on.
			for _, base := range lost {
				ev, err := s.committedAfter(ctx, entity, base, d.rec.ID)
				if err != nil {
					return batpak.Receipt{}, err
				}
				if ev != nil {
					s.indexID(ev.ID, ev.Global)
					return receiptOf(ev), nil
				}
			}
			if apiCode(err) == codeWrongLastSeqConst {
				if err := s.waitUnfinished(ctx, err, &busy, len(lost) > 0); err != nil {
					return batpak.Receipt{}, fmt.Errorf("%w (entity %s)", err, entity)
				}
			}
		default:
			return batpak.Receipt{}, err
		}
	}
	return batpak.Receipt{}, conflictLoop(len(lost) > 0, entity)
}

// waitUnfinished is what a round does before the next when the server
// refused it for an unfinished write: the leader holds a write on the
// entity proposed to the replicas and not yet stored (10164) — this
// client's own attempt whose answer was lost, or another client's; on a
// leader cut off from its replicas it stays unfinished until the leader
// steps down — or a batch's message ids are being stored (10201, see
// commitBatch). Rebuilding at once would meet the same refusal, so it
// waits a little longer each time, up to Options.Attempts times, and then
// gives up: ErrOutcomeUnknown if an attempt of this call may be the
// unfinished write (uncertain), else ErrUnavailable. A plain mismatch
// (10071) is another client's stored write and is rebuilt on at once.
func (s *Store) waitUnfinished(ctx context.Context, err error, busy *int, uncertain bool) error {
	*busy++
	if *busy < s.opts.Attempts {
		if werr := backoff(ctx, s.done, *busy); werr == nil {
			return nil
		} else if cerr := s.check(); cerr != nil {
			return cerr
		}
	}
	if uncertain {
		return fmt.Errorf("%w: an unfinished write: %w", batpak.ErrOutcomeUnknown, err)
	}
	return fmt.Errorf("%w: an unfinished write: %w", ErrUnavailable, err)
}

// conflictLoop is the error of an append that lost maxRounds races in a
// row: ErrOutcomeUnknown if an attempt whose answer was lost may still be
// stored.
func conflictLoop(uncertain bool, what string) error {
	if uncertain {
		return fmt.Errorf("%w: %w: %s", batpak.ErrOutcomeUnknown, errConflictLoop, what)
	}
	return fmt.Errorf("%w: %s", errConflictLoop, what)
}

// stored finishes a successful append: the index entries, the receipt.
func (s *Store) stored(ctx context.Context, d *draft, seq uint64) (batpak.Receipt, error) {
	return s.indexStored(ctx, d.rec.IdemKey, d.receipt(seq))
}

// indexStored writes the index entries of the stored event r names, whose
// idempotency key is key, and returns r.
func (s *Store) indexStored(ctx context.Context, key string, r batpak.Receipt) (batpak.Receipt, error) {
	s.indexID(r.ID, r.Global)
	if key != "" {
		if err := s.indexKey(ctx, key, r.Global); err != nil {
			// The event is stored; only recognition of a retry after the
			// duplicate window is lost. Report it rather than hide it.
			return r, fmt.Errorf("jetstream: event stored at %d, but its idempotency key was not indexed: %w", r.Global, err)
		}
	}
	return r, nil
}

// newDraft validates and encodes an append on the caller's goroutine.
// A typed payload's kind name is kept before its event is published.
func (s *Store) newDraft(ctx context.Context, coord batpak.Coordinate, kind batpak.EventKind, payload any, opts batpak.AppendOptions) (*draft, error) {
	if err := event.CheckAppend(coord, kind, opts); err != nil {
		return nil, err
	}
	if err := s.learnKind(ctx, kind, payload); err != nil {
		return nil, err
	}
	e, err := event.EncodeVersioned(s.opts.Codec, payload)
	if err != nil {
		return nil, fmt.Errorf("batpak: encoding payload: %w", err)
	}
	b, codec := e.Bytes, e.Codec
	if err := s.Limits().CheckPayload(len(b)); err != nil {
		return nil, err
	}
	subj, err := s.subj.event(coord, kind)
	if err != nil {
		return nil, err
	}
	id, wall, counter, us := s.stamp()
	corr := opts.Correlation
	if corr.IsZero() {
		corr = id
	}
	d := &draft{coord: coord, subj: subj, msgID: msgID(opts.IdempotencyKey, id)}
	d.rec = segment.EventRecord{
		ID: id, Correlation: corr, Causation: opts.Causation, Kind: kind, Flags: opts.Flags,
		Timestamp: us, WallMS: wall, Counter: counter, Codec: codec, PayloadVersion: e.Version, IdemKey: opts.IdempotencyKey,
		Entity: coord.Entity(), Scope: coord.Scope(), Payload: b,
	}
	return d, nil
}

// Limits returns the store's codec and payload bound (Options.Codec and
// Options.MaxPayload), for code that checks a payload before appending it,
// as package gatekeeper does.
func (s *Store) Limits() batpak.Limits {
	return batpak.Limits{Codec: s.opts.Codec, MaxPayload: s.opts.MaxPayload}
}

// publish sends m and waits for its acknowledgement, attempt by attempt.
// uncertain reports that some attempt may have been stored without its
// answer arriving; m's sequence check (and message id, if it has one)
// makes a repeat harmless.
func (s *Store) publish(ctx context.Context, m *nats.Msg) (ack pubAck, uncertain bool, err error) {
	for attempt := 0; attempt < s.opts.Attempts; attempt++ {
		if attempt > 0 {
			if werr := backoff(ctx, s.done, attempt); werr != nil {
				break
			}
		}
		var (
			resp *nats.Msg
			rerr error
		)
		if ctx.Done() == nil { // a context that never ends: a plain timer is cheaper
			resp, rerr = s.nc.RequestMsg(m, s.opts.Timeout)
		} else {
			actx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
			resp, rerr = s.nc.RequestMsgWithContext(actx, m)
			cancel()
		}
		if rerr == nil && s.opts.LoseAcks != nil && s.opts.LoseAcks() {
			rerr = nats.ErrTimeout
		}
		if rerr != nil {
			err = rerr
			if errors.Is(rerr, nats.ErrNoResponders) {
				continue // no stream listened: nothing was stored
			}
			if retryable(rerr) {
				uncertain = true
				if ctx.Err() != nil {
					break
				}
				continue
			}
			return ack, uncertain, fmt.Errorf("jetstream: publish: %w", rerr)
		}
		ack = pubAck{}
		if jerr := decodeAck(resp.Data, &ack); jerr != nil {
			return ack, uncertain, fmt.Errorf("jetstream: decoding a publish acknowledgement: %w", jerr)
		}
		if ack.Error != nil {
			err = ack.Error
			if ack.Error.ErrCode == codeMsgIDInProcess {
				uncertain = true // an attempt with this message id is still being stored
			}
			if retryable(ack.Error) {
				continue
			}
			return ack, uncertain, ack.Error
		}
		return ack, uncertain, nil
	}
	if cerr := s.check(); cerr != nil {
		err = cerr
	} else if ctx.Err() != nil {
		err = ctx.Err()
	}
	if uncertain {
		return ack, true, fmt.Errorf("%w: %w", batpak.ErrOutcomeUnknown, err)
	}
	if retryable(err) || errors.Is(err, nats.ErrNoResponders) {
		return ack, false, fmt.Errorf("%w: publish: %w", ErrUnavailable, err)
	}
	return ack, false, fmt.Errorf("jetstream: publish: %w", err)
}

// resolveDuplicate answers an append the server recognised as a duplicate
// of the message stored at seq: this call's own earlier attempt, or an
// earlier append with the same idempotency key.
func (s *Store) resolveDuplicate(ctx context.Context, d *draft, seq uint64) (batpak.Receipt, error) {
	ev, err := s.eventAt(ctx, seq)
	if err != nil {
		return batpak.Receipt{}, err
	}
	if ev.ID == d.rec.ID {
		// This call's own attempt, whose answer was lost — perhaps one of
		// an earlier round, sealed on another base: the receipt is what is
		// stored, not what the latest round sealed.
		return s.indexStored(ctx, d.rec.IdemKey, receiptOf(ev))
	}
	return replayOf(ev, d)
}

// replayOf is the receipt of a keyed retry, if it names the same event as
// the first append with its key: the same coordinate, kind and payload
// (event.SamePayload, and payload version), as the embedded store requires.
func replayOf(ev *event.StoredEvent, d *draft) (batpak.Receipt, error) {
	if ev.Coordinate != d.coord || ev.Kind != d.rec.Kind {
		return batpak.Receipt{}, fmt.Errorf("%w: key %q was first used for %s kind %v (global %d), not %s kind %v",
			batpak.ErrDuplicate, d.rec.IdemKey, ev.Coordinate, ev.Kind, ev.Global, d.coord, d.rec.Kind)
	}
	if ev.PayloadVersion != d.rec.PayloadVersion || !event.SamePayload(ev.Codec, ev.Payload, d.rec.Codec, d.rec.Payload) {
		return batpak.Receipt{}, fmt.Errorf("%w: key %q was first used for an event with another payload (global %d)",
			batpak.ErrDuplicate, d.rec.IdemKey, ev.Global)
	}
	r := receiptOf(ev)
	r.Replayed = true
	return r, nil
}

// eventAt reads the event at stream sequence seq. The message at a
// sequence never changes, so a direct get (any replica) is exact when it
// finds it; a replica that has not stored it yet answers "not found", and
// then the leader is asked.
func (s *Store) eventAt(ctx context.Context, seq uint64) (*event.StoredEvent, error) {
	m, err := s.directGet(ctx, msgGetRequest{Seq: seq})
	if errors.Is(err, batpak.ErrNotFound) && s.opts.Replicas > 1 {
		m, _, err = s.getMsg(ctx, msgGetRequest{Seq: seq})
	}
	if err != nil {
		return nil, err
	}
	dec, err := decode(m.Seq, m.Data)
	if err != nil {
		return nil, err
	}
	return dec.ev, nil
}

// The index bucket maps idempotency keys ("k.<base64url>") to stream
// sequences, and holds the id index (index.go).

func keyKey(key string) string { return "k." + base64.RawURLEncoding.EncodeToString([]byte(key)) }

// indexKey records an idempotency key's sequence and waits for it: keyed
// retries after the duplicate window depend on it.
func (s *Store) indexKey(ctx context.Context, key string, seq uint64) error {
	return s.retry(ctx, "index key", func(ctx context.Context) error {
		kv, err := s.indexBucket(ctx)
		if err != nil {
			return err
		}
		_, err = kv.Put(ctx, keyKey(key), strconv.AppendUint(nil, seq, 10))
		return err
	})
}

// lookupIndex returns the sequence an index entry names.
func (s *Store) lookupIndex(ctx context.Context, key string) (uint64, bool, error) {
	var seq uint64
	found := false
	err := s.retry(ctx, "index lookup", func(ctx context.Context) error {
		kv, err := s.indexBucket(ctx)
		if err != nil {
			return err
		}
		e, err := kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		seq, err = strconv.ParseUint(string(e.Value()), 10, 64)
		found = err == nil
		return err
	})
	return seq, found, err
}

// replayKey answers a keyed append whose key is already indexed.
func (s *Store) replayKey(ctx context.Context, d *draft) (batpak.Receipt, bool, error) {
	seq, ok, err := s.lookupIndex(ctx, keyKey(d.rec.IdemKey))
	if err != nil || !ok {
		return batpak.Receipt{}, false, err
	}
	ev, err := s.eventAt(ctx, seq)
	if err != nil {
		return batpak.Receipt{}, false, err
	}
	r, err := replayOf(ev, d)
	return r, true, err
}

// indexBucket returns the index bucket's handle, binding it once.
func (s *Store) indexBucket(ctx context.Context) (jetstream.KeyValue, error) {
	s.kvMu.Lock()
	defer s.kvMu.Unlock()
	if s.kv != nil {
		return s.kv, nil
	}
	kv, err := s.js.KeyValue(ctx, s.idx)
	if err != nil {
		return nil, err
	}
	s.kv = kv
	return kv, nil
}
