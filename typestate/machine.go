package typestate

import (
	"context"
	"fmt"

	"github.com/batpak-go/batpak/event"
)

// Appender is the part of the store that ApplyTransition needs.
// *batpak.Store satisfies it.
type Appender interface {
	AppendWithOptions(ctx context.Context, coord event.Coordinate, kind event.EventKind,
		payload any, opts event.AppendOptions) (event.Receipt, error)
}

// Machine is a handle on one persisted state machine (one entity) that is
// known, by its type, to be in state S, together with the entity's next
// sequence. The handle is only as good as that sequence: ApplyTransition
// appends conditionally on it, so a stale handle — one used twice, or one
// whose entity another writer moved — fails with the store's
// sequence-mismatch error instead of recording a transition from a state
// the machine has left. Load and Resume give a fresh handle.
//
// Machine is a small value; pass it by value and use the one
// ApplyTransition returns.
type Machine[S State] struct {
	coord event.Coordinate
	next  uint64 // the entity's next sequence, i.e. its event count when last seen
}

// Start returns a handle on a new machine in state S at coord, whose entity
// must have no events yet: the first ApplyTransition fails if it has any.
// For a machine already on the log, use Load and Resume.
func Start[S State](coord event.Coordinate) Machine[S] {
	return Machine[S]{coord: coord}
}

// Coordinate is where the machine's transitions are appended.
func (m Machine[S]) Coordinate() event.Coordinate { return m.coord }

// State is the log name of S.
func (m Machine[S]) State() string { return stateName[S]() }

// Next is the entity sequence the next transition must land at.
func (m Machine[S]) Next() uint64 { return m.next }

// IsZero reports whether m is the zero Machine.
func (m Machine[S]) IsZero() bool { return m.coord.IsZero() }

// String renders the handle as "entity@scope in state #next".
func (m Machine[S]) String() string {
	return fmt.Sprintf("%s in %s #%d", m.coord, m.State(), m.next)
}

// ApplyTransition appends t to m's entity as a Record and returns the handle
// in the new state together with the store's receipt. The append expects the
// entity's next sequence to be m.Next(), so it fails — with the store's own
// sequence-mismatch error, returned as it is — if anything was appended to
// the entity since m was obtained.
//
// That t leaves the state m is in is checked by the compiler:
//
//	opened, _, err := typestate.ApplyTransition(ctx, store, closed, open()) // closed is a Machine[Closed]: fine
//	_, _, err = typestate.ApplyTransition(ctx, store, opened, open())      // opened is a Machine[Open]:
//	// in call to typestate.ApplyTransition, type typestate.Transition[Closed, Open, struct{}] of open()
//	// does not match inferred type typestate.Transition[Open, To, P] for typestate.Transition[From, To, P]
func ApplyTransition[From, To State, P any](ctx context.Context, st Appender, m Machine[From],
	t Transition[From, To, P]) (Machine[To], event.Receipt, error) {
	if m.IsZero() {
		return Machine[To]{}, event.Receipt{}, ErrZeroMachine
	}
	if !t.made {
		return Machine[To]{}, event.Receipt{}, ErrZeroTransition
	}
	from, to := t.From(), t.To()
	if from == "" || to == "" {
		return Machine[To]{}, event.Receipt{}, ErrUnnamedState
	}
	opts := t.opts
	opts.ExpectSequence, opts.ExpectedSequence = true, m.next
	rec := Record[P]{Version: RecordVersion, From: from, To: to, Payload: t.payload}
	rc, err := st.AppendWithOptions(ctx, m.coord, t.kind, rec, opts)
	if err != nil {
		return Machine[To]{}, event.Receipt{}, err
	}
	return Machine[To]{coord: m.coord, next: rc.Sequence + 1}, rc, nil
}
