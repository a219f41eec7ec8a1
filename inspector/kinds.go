package inspector

import "github.com/batpak-go/batpak/event"

// kindName is the one place the inspector asks for a kind's name: every
// page, the graph and the live tail show kinds through it. It returns ""
// when the store knows no name for k, and the pages show the number.
func (in *Inspector) kindName(k event.EventKind) string {
	return ""
}

// kindLabel is how a kind is shown: its name where the store knows one,
// its number otherwise.
func (in *Inspector) kindLabel(k event.EventKind) string {
	if n := in.kindName(k); n != "" {
		return n
	}
	return k.String()
}
