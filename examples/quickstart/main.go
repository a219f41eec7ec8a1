// Command quickstart opens a store in a temporary directory, appends a few
// events, reads them back and closes the store.
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// Moved is the payload of a player's move.
type Moved struct {
	From string `msgpack:"from"`
	To   string `msgpack:"to"`
}

func main() {
	dir, err := os.MkdirTemp("", "batpak-quickstart-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	store, err := batpak.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	ctx := context.Background()
	moved := event.MustCustom(0x1, 0x001)
	alice := event.MustCoordinate("player:alice", "room:dungeon")

	for _, step := range []Moved{{"gate", "hall"}, {"hall", "crypt"}} {
		r, err := store.Append(ctx, alice, moved, step)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("appended %s: sequence %d, global %d\n", r.Coordinate, r.Sequence, r.Global)
	}

	for ev, err := range store.Stream(ctx, "player:alice") {
		if err != nil {
			log.Fatal(err)
		}
		m, err := batpak.Decode[Moved](ev)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("#%d %s -> %s (chain ok: %t)\n", ev.Sequence, m.From, m.To,
			ev.Sequence == 0 || ev.Hash.Prev != [32]byte{})
	}
	if err := store.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("closed")
}
