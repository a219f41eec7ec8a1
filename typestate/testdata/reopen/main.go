// This program must not compile: it opens a door that is already open.
package main

import (
	"context"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/typestate"
)

type Locked struct{}

func (Locked) StateName() string { return "locked" }

type Closed struct{}

func (Closed) StateName() string { return "closed" }

type Open struct{}

func (Open) StateName() string { return "open" }

type Key struct{ ID string }

func unlock(k Key) typestate.Transition[Locked, Closed, Key] {
	return typestate.NewTransition[Locked, Closed](0x1001, k)
}

func open() typestate.Transition[Closed, Open, struct{}] {
	return typestate.NewTransition[Closed, Open](0x1002, struct{}{})
}

type nopStore struct{}

func (nopStore) AppendWithOptions(context.Context, event.Coordinate, event.EventKind, any, event.AppendOptions) (event.Receipt, error) {
	return event.Receipt{}, nil
}

func main() {
	ctx, st := context.Background(), nopStore{}
	door := typestate.Start[Locked](event.MustCoordinate("door:1", "dungeon"))
	closed, _, _ := typestate.ApplyTransition(ctx, st, door, unlock(Key{ID: "brass"}))
	opened, _, _ := typestate.ApplyTransition(ctx, st, closed, open())
	again, _, _ := typestate.ApplyTransition(ctx, st, opened, open()) // opened is Machine[Open]
	_ = again
}
