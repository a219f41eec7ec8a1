package batpak

import (
	"github.com/batpak-go/batpak/gatekeeper"
	"github.com/batpak-go/batpak/typestate"
)

// The policy layer talks to the store through interfaces of its own (it
// must not import the facade); these assertions keep them in step.
var (
	_ gatekeeper.Appender = (*Store)(nil)
	_ typestate.Appender  = (*Store)(nil)
	_ typestate.Streamer  = (*Store)(nil)
)
