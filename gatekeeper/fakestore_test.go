package gatekeeper_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"

	"github.com/batpak-go/batpak/event"
)

// fakeStore is a test-only, in-memory stand-in for *batpak.Store with just
// enough behaviour to exercise Commit: MessagePack encoding through the event
// codec, per-entity sequences, expected-sequence checks, idempotency keys, a
// hash chain and an injectable error.
type fakeStore struct {
	mu       sync.Mutex
	events   []*event.StoredEvent            // guarded by mu, in commit order
	byEntity map[string][]*event.StoredEvent // guarded by mu
	keys     map[string]event.Receipt        // guarded by mu
	failWith error                           // guarded by mu; returned by every append when set
}

var (
	errFakeSequence  = errors.New("fake: sequence mismatch")
	errFakeDuplicate = errors.New("fake: idempotency key reused for a different event")
)

func newFakeStore() *fakeStore {
	return &fakeStore{byEntity: map[string][]*event.StoredEvent{}, keys: map[string]event.Receipt{}}
}

func (s *fakeStore) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failWith = err
}

func (s *fakeStore) AppendWithOptions(ctx context.Context, coord event.Coordinate, kind event.EventKind,
	payload any, opts event.AppendOptions) (event.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return event.Receipt{}, err
	}
	b, codec, err := event.Encode(event.CodecMsgPack, payload)
	if err != nil {
		return event.Receipt{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failWith != nil {
		return event.Receipt{}, s.failWith
	}
	if r, ok := s.keys[opts.IdempotencyKey]; ok && opts.IdempotencyKey != "" {
		// As the stores do: a replay only for the same event.
		first := s.events[r.Global-1]
		if first.Coordinate != coord || first.Kind != kind || !event.SamePayload(first.Codec, first.Payload, codec, b) {
			return event.Receipt{}, errFakeDuplicate
		}
		r.Replayed = true
		return r, nil
	}
	stream := s.byEntity[coord.Entity()]
	seq := uint64(len(stream))
	if opts.ExpectSequence && opts.ExpectedSequence != seq {
		return event.Receipt{}, errFakeSequence
	}
	var prev [32]byte
	if seq > 0 {
		prev = stream[seq-1].Hash.Self
	}
	now := time.Now()
	e := &event.StoredEvent{
		Header: event.Header{
			ID:        event.NewID(),
			Timestamp: now.UnixMicro(),
			Position:  event.Position{WallMS: uint64(now.UnixMilli())}, Sequence: seq,
			Global: uint64(len(s.events) + 1),
			Kind:   kind,
			Flags:  opts.Flags,
			Hash:   event.HashChain{Prev: prev, Self: sha256.Sum256(append(prev[:], b...))},
		},
		Coordinate:     coord,
		IdempotencyKey: opts.IdempotencyKey,
		Codec:          codec,
		Payload:        b,
	}
	e.Correlation = opts.Correlation
	if e.Correlation.IsZero() {
		e.Correlation = e.ID
	}
	e.Causation = opts.Causation
	s.events = append(s.events, e)
	s.byEntity[coord.Entity()] = append(stream, e)
	r := event.Receipt{
		ID: e.ID, Coordinate: coord, Kind: kind, Global: e.Global, Sequence: e.Sequence, Position: e.Position,
		Timestamp: e.Timestamp, Correlation: e.Correlation, Causation: e.Causation, Hash: e.Hash.Self,
	}
	if opts.IdempotencyKey != "" {
		s.keys[opts.IdempotencyKey] = r
	}
	return r, nil
}

// all returns the stored events in commit order.
func (s *fakeStore) all() []*event.StoredEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*event.StoredEvent(nil), s.events...)
}
