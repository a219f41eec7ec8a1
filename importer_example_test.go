package batpak_test

import (
	"context"
	"fmt"
	"log"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// An Importer writes events that keep the ids and timestamps they had in
// another store; an id already there is recognised, so an interrupted
// import is finished by running it again. (`batpak import` does this for
// batpak-rust stores; see package migrate/batpakrust.)
func ExampleStore_Importer() {
	dir, cleanup := exampleDir()
	defer cleanup()
	ctx := context.Background()
	store, err := batpak.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	im, err := store.Importer(batpak.OnWrite)
	if err != nil {
		log.Fatal(err)
	}
	id, _ := event.ParseID("01a24581-ad8c-7120-8cf7-fd3cff774cf8") // the event's id in the other store
	ev := batpak.ImportEvent{
		ID: id, Coord: event.MustCoordinate("player:0", "room:0"), Kind: moved,
		Codec: batpak.MsgPack, Payload: []byte{0x82, 0xa1, 'x', 0x00, 0xa1, 'y', 0x00}, // {"x": 0, "y": 0}
		Timestamp: 1_796_462_456_204_634, // µs, as it was
	}
	r, err := im.Append(ctx, ev)
	if err != nil {
		log.Fatal(err)
	}
	again, err := im.Append(ctx, ev) // a rerun of the import
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Sync(ctx); err != nil {
		log.Fatal(err)
	}
	got, err := store.Get(ctx, id)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("id kept:", got.ID == id, "timestamp kept:", got.Timestamp == ev.Timestamp)
	fmt.Println("global", r.Global, "replayed the second time:", again.Replayed, "same event:", again.Global == r.Global)
	// Output:
	// id kept: true timestamp kept: true
	// global 1 replayed the second time: true same event: true
}
