package typedid_test

import (
	"fmt"
	"strings"

	"github.com/batpak-go/batpak/typedid"
)

type guild struct{}

func (guild) Prefix() string { return "guild" }

// GuildID is how a product names its id type.
type GuildID = typedid.ID[guild]

func Example() {
	id := typedid.New[guild]()
	fmt.Println(strings.HasPrefix(id.String(), "guild:"))

	back, err := typedid.Parse[guild](id.String())
	fmt.Println(back == id, err)

	_, err = typedid.Parse[guild]("player:0190a1c2-0000-7000-8000-000000000000")
	fmt.Println(err)

	coord, _ := id.Coordinate("realm:eu")
	fmt.Println(coord.Entity() == id.String(), coord.Scope())
	// Output:
	// true
	// true <nil>
	// typedid: invalid id: "player:0190a1c2-0000-7000-8000-000000000000" does not start with "guild:"
	// true realm:eu
}
