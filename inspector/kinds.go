package inspector

import (
	"context"
	"fmt"

	"github.com/batpak-go/batpak/event"
)

// kindName is the one place the inspector asks for a kind's name: every
// page, the graph and the live tail show kinds through it. It returns ""
// when the store knows no name for k, and the pages show the number.
func (in *Inspector) kindName(k event.EventKind) string {
	// The table is the store's own (an atomic load on the embedded store;
	// a read-only store rereads it on Refresh).
	t, err := in.store.KindNames().Table(context.Background())
	if err != nil {
		return ""
	}
	return t[k]
}

// kindLabel is how a kind is shown: its name where the store knows one,
// its number otherwise.
func (in *Inspector) kindLabel(k event.EventKind) string {
	if n := in.kindName(k); n != "" {
		return n
	}
	return kindNumber(k)
}

// kindNumber is a kind's number as the batpak command prints it and its
// --kind flag takes it: 0x1001 for category 1, type 1.
func kindNumber(k event.EventKind) string { return fmt.Sprintf("0x%04x", uint16(k)) }
