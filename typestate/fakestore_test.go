package typestate_test

import (
	"context"
	"errors"
	"iter"
	"sync"

	"github.com/batpak-go/batpak/event"
)

// fakeStore is a test-only, in-memory stand-in for *batpak.Store: it encodes
// payloads with the event codec (MessagePack), keeps per-entity streams,
// enforces expected sequences and can fail its streams on demand.
type fakeStore struct {
	mu         sync.Mutex
	byEntity   map[string][]*event.StoredEvent // guarded by mu
	global     uint64                          // guarded by mu
	streamFail error                           // guarded by mu
}

var errFakeSequence = errors.New("fake: sequence mismatch")

func newFakeStore() *fakeStore { return &fakeStore{byEntity: map[string][]*event.StoredEvent{}} }

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
	stream := s.byEntity[coord.Entity()]
	seq := uint64(len(stream))
	if opts.ExpectSequence && opts.ExpectedSequence != seq {
		return event.Receipt{}, errFakeSequence
	}
	s.global++
	e := &event.StoredEvent{
		Header: event.Header{
			ID: event.NewID(), Global: s.global, Kind: kind, Flags: opts.Flags,
			Causation: opts.Causation, Sequence: seq,
		},
		Coordinate: coord, IdempotencyKey: opts.IdempotencyKey, Codec: codec, Payload: b,
	}
	s.byEntity[coord.Entity()] = append(stream, e)
	return event.Receipt{ID: e.ID, Coordinate: coord, Kind: kind, Global: e.Global, Sequence: e.Sequence, Position: e.Position}, nil
}

func (s *fakeStore) Stream(ctx context.Context, entity string) iter.Seq2[*event.StoredEvent, error] {
	s.mu.Lock()
	evs := append([]*event.StoredEvent(nil), s.byEntity[entity]...)
	fail := s.streamFail
	s.mu.Unlock()
	return func(yield func(*event.StoredEvent, error) bool) {
		for _, e := range evs {
			if !yield(e, nil) {
				return
			}
		}
		if fail != nil {
			yield(nil, fail)
		}
	}
}

func (s *fakeStore) events(entity string) []*event.StoredEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*event.StoredEvent(nil), s.byEntity[entity]...)
}

// failStreams makes every later stream end with err.
func (s *fakeStore) failStreams(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streamFail = err
}
