package typestate

import (
	"errors"
	"fmt"
)

// The package's sentinel errors; *StateError and *ChainError are the typed
// errors with fields.
var (
	// ErrZeroMachine is returned by ApplyTransition for the zero Machine,
	// which no Start, Resume or ApplyTransition made, and by Resume for the
	// zero Snapshot.
	ErrZeroMachine = errors.New("typestate: zero machine (use Start or Resume)")
	// ErrZeroTransition is returned by ApplyTransition for the zero Transition.
	ErrZeroTransition = errors.New("typestate: zero transition (use NewTransition)")
	// ErrUnnamedState is returned by ApplyTransition when a state marker's
	// StateName is empty: the log could not say where the machine went.
	ErrUnnamedState = errors.New("typestate: state marker has an empty StateName")
	// ErrNotTransition is returned (wrapped) by Decode and ReadStep for an
	// event that is not a transition record.
	ErrNotTransition = errors.New("typestate: event is not a transition record")
	// ErrWrongState is matched (errors.Is) by every *StateError.
	ErrWrongState = errors.New("typestate: machine is in another state")
	// ErrBrokenChain is matched (errors.Is) by every *ChainError.
	ErrBrokenChain = errors.New("typestate: transitions do not chain")
	// ErrNewerRecord is returned (wrapped) by ReadStep, Decode, History and
	// Load for a transition record written by a newer version of this
	// package. It is not skipped like other events: replaying around it
	// would report the wrong state.
	ErrNewerRecord = errors.New("typestate: transition record is newer than this package")
)

// StateError is returned by Resume when the log puts the machine in another
// state than the one asked for.
type StateError struct {
	Entity string
	Want   string // the state asked for
	Got    string // the state on the log; "" if the machine has no transitions
}

func (e *StateError) Error() string {
	got := e.Got
	if got == "" {
		got = "no state (no transitions)"
	}
	return fmt.Sprintf("typestate: %s is in %s, not %s", e.Entity, got, e.Want)
}

// Is makes errors.Is(err, ErrWrongState) true for every StateError.
func (e *StateError) Is(target error) bool { return target == ErrWrongState }

// ChainError is returned by Load when a transition does not leave the state
// the previous one entered — which ApplyTransition's conditional appends rule
// out, so it means the entity was written some other way.
type ChainError struct {
	Entity   string
	Sequence uint64 // the offending transition's sequence
	Want     string // the state the previous transition entered
	Got      string // the state this transition says it left
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("typestate: %s #%d leaves %s, but the machine was in %s", e.Entity, e.Sequence, e.Got, e.Want)
}

// Is makes errors.Is(err, ErrBrokenChain) true for every ChainError.
func (e *ChainError) Is(target error) bool { return target == ErrBrokenChain }
