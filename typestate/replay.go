package typestate

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/batpak-go/batpak/event"
)

// RecordVersion is the record format ApplyTransition writes.
const RecordVersion = 1

// Record is the payload ApplyTransition hands to the store. The store
// encodes it with its codec (MessagePack by default) under these keys:
//
//	{
//	  "typestate": 1,        // RecordVersion; its presence marks a transition
//	  "from":      "closed", // From's StateName
//	  "to":        "open",   // To's StateName
//	  "payload":   <P>
//	}
//
// Recording both ends makes the log self-describing: Load can tell the
// machine's state and check that the transitions chain without knowing the
// Go types involved.
type Record[P any] struct {
	Version uint8  `msgpack:"typestate" json:"typestate"`
	From    string `msgpack:"from" json:"from"`
	To      string `msgpack:"to" json:"to"`
	Payload P      `msgpack:"payload" json:"payload"`
}

// Step is one transition read back from the log.
type Step struct {
	From, To string
	Event    *event.StoredEvent
}

// header decodes a record's states while skipping the payload, so steps can
// be read without knowing payload types (both codecs ignore unnamed keys).
type header struct {
	Version uint8  `msgpack:"typestate" json:"typestate"`
	From    string `msgpack:"from" json:"from"`
	To      string `msgpack:"to" json:"to"`
}

func checkHeader(v uint8) error {
	switch {
	case v == 0:
		return fmt.Errorf("%w: no %q key", ErrNotTransition, "typestate")
	case v > RecordVersion:
		return fmt.Errorf("%w: version %d, this package writes %d", ErrNewerRecord, v, RecordVersion)
	}
	return nil
}

// ReadStep reads the states of a transition event.
func ReadStep(e *event.StoredEvent) (Step, error) {
	var h header
	if err := e.Decode(&h); err != nil {
		return Step{}, fmt.Errorf("%w: %w", ErrNotTransition, err)
	}
	if err := checkHeader(h.Version); err != nil {
		return Step{}, err
	}
	return Step{From: h.From, To: h.To, Event: e}, nil
}

// Decode reads a transition event with its payload.
func Decode[P any](e *event.StoredEvent) (Step, P, error) {
	var rec Record[P]
	if err := e.Decode(&rec); err != nil {
		var zero P
		return Step{}, zero, fmt.Errorf("%w: %w", ErrNotTransition, err)
	}
	if err := checkHeader(rec.Version); err != nil {
		var zero P
		return Step{}, zero, err
	}
	return Step{From: rec.From, To: rec.To, Event: e}, rec.Payload, nil
}

// Streamer is the part of the store that reading machines back needs.
// *batpak.Store satisfies it.
type Streamer interface {
	Stream(ctx context.Context, entity string) iter.Seq2[*event.StoredEvent, error]
}

// History yields the transitions of entity in sequence order, skipping the
// entity's other events. An error (the store's, or ErrNewerRecord) is yielded
// once and ends the sequence.
func History(ctx context.Context, st Streamer, entity string) iter.Seq2[Step, error] {
	return func(yield func(Step, error) bool) {
		for e, err := range st.Stream(ctx, entity) {
			if err != nil {
				yield(Step{}, err)
				return
			}
			s, err := ReadStep(e)
			if errors.Is(err, ErrNotTransition) {
				continue
			}
			if !yield(s, err) || err != nil {
				return
			}
		}
	}
}

// Snapshot is where a machine stands on the log, as read by Load. Only Load
// makes one, so a Snapshot always says what the log said.
type Snapshot struct {
	coord event.Coordinate
	state string
	next  uint64
	steps int
}

// Coordinate is the machine's coordinate.
func (s Snapshot) Coordinate() event.Coordinate { return s.coord }

// State is the state the last transition entered; "" if there is none.
func (s Snapshot) State() string { return s.state }

// Next is the entity's next sequence (its event count, transitions or not).
func (s Snapshot) Next() uint64 { return s.next }

// Steps is the number of transitions on the log.
func (s Snapshot) Steps() int { return s.steps }

// Load replays the machine at coord: it reads the entity's events, checks
// that each transition leaves the state the previous one entered, and
// returns where the machine stands. Switch on State to Resume it in the
// right type.
func Load(ctx context.Context, st Streamer, coord event.Coordinate) (Snapshot, error) {
	if err := coord.Valid(); err != nil {
		return Snapshot{}, err
	}
	snap := Snapshot{coord: coord}
	for e, err := range st.Stream(ctx, coord.Entity()) {
		if err != nil {
			return Snapshot{}, err
		}
		snap.next = e.Sequence + 1
		s, err := ReadStep(e)
		if errors.Is(err, ErrNotTransition) {
			continue
		}
		if err != nil {
			return Snapshot{}, err
		}
		if snap.steps > 0 && s.From != snap.state {
			return Snapshot{}, &ChainError{Entity: coord.Entity(), Sequence: e.Sequence, Want: snap.state, Got: s.From}
		}
		snap.state = s.To
		snap.steps++
	}
	return snap, nil
}

// Resume returns a handle on the loaded machine typed as state S, or a
// *StateError if the log has it in another state. It is the one bridge from
// the log's run-time state name back to a compile-time state.
func Resume[S State](snap Snapshot) (Machine[S], error) {
	if snap.coord.IsZero() {
		return Machine[S]{}, ErrZeroMachine
	}
	if want := stateName[S](); snap.state != want {
		return Machine[S]{}, &StateError{Entity: snap.coord.Entity(), Want: want, Got: snap.state}
	}
	return Machine[S]{coord: snap.coord, next: snap.next}, nil
}
