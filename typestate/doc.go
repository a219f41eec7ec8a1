// Package typestate persists state machines whose legal transitions are
// checked by the Go compiler: the state-marker pattern over batpak's log.
//
// Each state is an empty marker type; each legal edge is a function that
// returns a [Transition] between two markers; a [Machine] handle carries its
// current state in its type. [ApplyTransition] accepts only a transition
// that leaves the handle's state, so an illegal transition does not compile:
//
//	type Locked struct{}
//	func (Locked) StateName() string { return "locked" }
//	type Closed struct{}
//	func (Closed) StateName() string { return "closed" }
//	type Open struct{}
//	func (Open) StateName() string { return "open" }
//
//	func unlock(k Key) typestate.Transition[Locked, Closed, Key] {
//		return typestate.NewTransition[Locked, Closed](kindUnlocked, k)
//	}
//	func open() typestate.Transition[Closed, Open, struct{}] {
//		return typestate.NewTransition[Closed, Open](kindOpened, struct{}{})
//	}
//
//	door := typestate.Start[Locked](coord)                                  // Machine[Locked]
//	closed, _, err := typestate.ApplyTransition(ctx, store, door, unlock(k)) // Machine[Closed]
//	opened, _, err := typestate.ApplyTransition(ctx, store, closed, open())  // Machine[Open]
//	typestate.ApplyTransition(ctx, store, door, open())                      // does not compile
//
// # Safety at run time
//
// Types say what a handle believes; the log says what happened. Every
// ApplyTransition is a conditional append (event.Expect) on the sequence
// the handle was made at, so a stale handle — reused after a transition, or
// overtaken by another writer — fails with the store's sequence-mismatch
// error rather than recording a transition from a state the machine has
// left. After such an error, Load and Resume again.
//
// # The log and replay
//
// Each transition is appended as a [Record]: {"typestate": 1, "from": …,
// "to": …, "payload": …}. [Load] replays an entity, checks that the
// transitions chain and returns a [Snapshot] with the current state name;
// [Resume] turns that back into a typed handle, and [History] and [Decode]
// read the individual steps:
//
//	snap, err := typestate.Load(ctx, store, coord)
//	switch snap.State() {
//	case Closed{}.StateName():
//		closed, err := typestate.Resume[Closed](snap)
//		…
//	}
//
// # Sealing a machine
//
// NewTransition can name any two markers. To make the transition table the
// only source of edges, keep the marker types unexported in the package that
// owns the machine and export only its transition functions (and type
// aliases for the handles it hands out): other packages then cannot name a
// state, so they cannot write a new edge by mistake. (A generic function
// that infers the markers from handles still could; the pattern guards
// against mistakes, not against hostile code in the same program.)
//
// This package needs only the AppendWithOptions and Stream methods of
// *batpak.Store ([Appender], [Streamer]) and does not import the store.
package typestate
