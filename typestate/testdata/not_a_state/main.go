// This program must not compile: a transition's states must be state
// markers, so an arbitrary type cannot stand in for one.
package main

import "github.com/batpak-go/batpak/typestate"

type Open struct{}

func (Open) StateName() string { return "open" }

func main() {
	_ = typestate.NewTransition[string, Open](0x1001, 1)
}
