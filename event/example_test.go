package event_test

import (
	"fmt"

	"github.com/batpak-go/batpak/event"
)

// Regions over space: a scope prefix for a zone, a set of scopes for the
// chunks around a point.
func ExampleForScopes() {
	moved := event.MustCustom(0x1, 0x001)
	near := event.ForScopes("zone:1/0,0", "zone:1/0,1", "zone:1/1,0", "zone:1/1,1")
	zone := event.ForScope("zone:1/*")
	for _, scope := range []string{"zone:1/0,1", "zone:1/5,5", "zone:10/0,0"} {
		c := event.MustCoordinate("player:7", scope)
		fmt.Println(scope, near.Matches(c, moved, 0), zone.Matches(c, moved, 0))
	}
	// Output:
	// zone:1/0,1 true true
	// zone:1/5,5 false true
	// zone:10/0,0 false false
}
