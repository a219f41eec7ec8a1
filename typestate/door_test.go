package typestate_test

import (
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/typestate"
)

// The door machine used by the tests: locked ⇄ closed ⇄ open.

type Locked struct{}

func (Locked) StateName() string { return "locked" }

type Closed struct{}

func (Closed) StateName() string { return "closed" }

type Open struct{}

func (Open) StateName() string { return "open" }

// Key is the payload of unlocking and locking.
type Key struct{ ID string }

var (
	kindUnlocked = event.MustCustom(0x3, 0x001)
	kindLocked   = event.MustCustom(0x3, 0x002)
	kindOpened   = event.MustCustom(0x3, 0x003)
	kindClosed   = event.MustCustom(0x3, 0x004)
	kindKnocked  = event.MustCustom(0x3, 0x005) // not a transition
)

func unlock(k Key) typestate.Transition[Locked, Closed, Key] {
	return typestate.NewTransition[Locked, Closed](kindUnlocked, k)
}

func lock(k Key) typestate.Transition[Closed, Locked, Key] {
	return typestate.NewTransition[Closed, Locked](kindLocked, k)
}

func open() typestate.Transition[Closed, Open, struct{}] {
	return typestate.NewTransition[Closed, Open](kindOpened, struct{}{})
}

func shut() typestate.Transition[Open, Closed, struct{}] {
	return typestate.NewTransition[Open, Closed](kindClosed, struct{}{})
}

var doorCoord = event.MustCoordinate("door:north", "room:crypt")
