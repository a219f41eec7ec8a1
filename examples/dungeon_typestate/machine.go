package main

import (
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/typestate"
)

// The states of a dungeon run. A run starts in the lobby, explores, fights,
// and ends escaped or fallen:
//
//	lobby ─descend→ exploring ─encounter→ fighting ─win→ exploring
//	                exploring ─escape→ escaped       fighting ─fall→ fallen
//
// The markers are unexported, so outside this package the transition
// functions below are the only edges there are.
type (
	lobby     struct{}
	exploring struct{}
	fighting  struct{}
	escaped   struct{}
	fallen    struct{}
)

// StateName is what the log records; it stays put if the types are renamed.
func (lobby) StateName() string     { return "lobby" }
func (exploring) StateName() string { return "exploring" }
func (fighting) StateName() string  { return "fighting" }
func (escaped) StateName() string   { return "escaped" }
func (fallen) StateName() string    { return "fallen" }

// The payloads the transitions carry.
type (
	party   struct{ Hero string }
	monster struct {
		Name string
		HP   int
	}
	victory struct {
		Loot string
		XP   int
	}
	defeat struct{ By string }
	exit   struct{ Gold int }
)

var (
	kindDescended   = event.MustCustom(0x4, 0x001)
	kindEncountered = event.MustCustom(0x4, 0x002)
	kindWon         = event.MustCustom(0x4, 0x003)
	kindFell        = event.MustCustom(0x4, 0x004)
	kindEscaped     = event.MustCustom(0x4, 0x005)
)

// The transition table: one function per legal edge.

func descend(p party) typestate.Transition[lobby, exploring, party] {
	return typestate.NewTransition[lobby, exploring](kindDescended, p)
}

func encounter(m monster) typestate.Transition[exploring, fighting, monster] {
	return typestate.NewTransition[exploring, fighting](kindEncountered, m)
}

func win(v victory) typestate.Transition[fighting, exploring, victory] {
	return typestate.NewTransition[fighting, exploring](kindWon, v)
}

func fall(d defeat) typestate.Transition[fighting, fallen, defeat] {
	return typestate.NewTransition[fighting, fallen](kindFell, d)
}

func escape(e exit) typestate.Transition[exploring, escaped, exit] {
	return typestate.NewTransition[exploring, escaped](kindEscaped, e)
}
