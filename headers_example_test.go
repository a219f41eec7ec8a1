package batpak_test

import (
	"context"
	"fmt"
	"log"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// StreamHeaders lists an entity's events from the index alone — which
// events, of what kind, caused by what — and Get reads the one whose
// payload matters.
func ExampleStore_StreamHeaders() {
	dir, cleanup := exampleDir()
	defer cleanup()
	store, err := batpak.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	alice := event.MustCoordinate("player:alice", "room:hall")
	first, err := store.Append(ctx, alice, moved, Move{From: "gate", To: "hall"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := store.AppendReaction(ctx, alice, spoke, "hello", first.ID, first.ID); err != nil {
		log.Fatal(err)
	}
	var lastMove batpak.ID
	for h, err := range store.StreamHeaders(ctx, "player:alice") {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("#%d kind %v in %s, caused by the first: %v\n",
			h.Sequence, h.Kind, h.Coordinate.Scope(), h.Causation == first.ID)
		if h.Kind == moved {
			lastMove = h.ID
		}
	}
	ev, err := store.Get(ctx, lastMove)
	if err != nil {
		log.Fatal(err)
	}
	var m Move
	if err := ev.Decode(&m); err != nil {
		log.Fatal(err)
	}
	fmt.Println("last move to", m.To)
	// Output:
	// #0 kind 0x1:0x001 in room:hall, caused by the first: false
	// #1 kind 0x1:0x002 in room:hall, caused by the first: true
	// last move to hall
}
