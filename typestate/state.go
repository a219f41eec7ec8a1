package typestate

import (
	"fmt"

	"github.com/batpak-go/batpak/event"
)

// State is implemented by state markers: empty struct types, one per state,
// whose only job is to be a distinct type. StateName is the name written to
// the log, so keep it stable when renaming the Go type.
//
//	type Locked struct{}
//
//	func (Locked) StateName() string { return "locked" }
//
// StateName is called on the marker's zero value; give it a value receiver.
type State interface {
	StateName() string
}

// stateName is the log name of marker S.
func stateName[S State]() string {
	var s S
	return s.StateName()
}

// Transition is an edge of a state machine: from state From to state To,
// carrying a payload P, appended as an event of one kind. From and To exist
// only in the type, which is what makes the pattern work: ApplyTransition
// takes a Machine[From] and a Transition[From, To, P] with the same From, so
// applying an edge to a machine in any other state is a compile error.
//
// Declare a machine's legal edges once, as functions that return
// transitions, and apply them; an edge that is not declared cannot be
// applied by code that only uses the declared ones:
//
//	func unlock(key string) typestate.Transition[Locked, Closed, Unlocked] {
//		return typestate.NewTransition[Locked, Closed](kindUnlocked, Unlocked{Key: key})
//	}
//
// The zero Transition is refused by ApplyTransition.
type Transition[From, To State, P any] struct {
	kind    event.EventKind
	payload P
	opts    event.AppendOptions
	made    bool // false for the zero Transition
}

// NewTransition makes a transition from From to To; name the two states and
// let P be inferred from the payload.
func NewTransition[From, To State, P any](kind event.EventKind, payload P) Transition[From, To, P] {
	return Transition[From, To, P]{kind: kind, payload: payload, made: true}
}

// WithOptions returns t with append options for correlation, causation,
// idempotency key, flags or durability. ApplyTransition sets the expected
// sequence itself and ignores one given here.
func (t Transition[From, To, P]) WithOptions(o event.AppendOptions) Transition[From, To, P] {
	t.opts = o
	return t
}

// Kind is the event kind the transition is appended as.
func (t Transition[From, To, P]) Kind() event.EventKind { return t.kind }

// Payload is the data the transition carries.
func (t Transition[From, To, P]) Payload() P { return t.payload }

// From is the log name of the state the transition leaves.
func (t Transition[From, To, P]) From() string { return stateName[From]() }

// To is the log name of the state the transition enters.
func (t Transition[From, To, P]) To() string { return stateName[To]() }

// String renders the edge as "from -> to (kind)".
func (t Transition[From, To, P]) String() string {
	return fmt.Sprintf("%s -> %s (%v)", t.From(), t.To(), t.kind)
}
