// Command quickstart opens a store in a temporary directory, appends a few
// events, reads them back and closes the store. With -backend jetstream it
// does the same over a NATS server started in-process.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/examples/internal/backend"
)

// Moved is the payload of a player's move.
type Moved struct {
	From string `msgpack:"from"`
	To   string `msgpack:"to"`
}

var backendName = backend.Flag()

func main() {
	flag.Parse()
	if err := run(context.Background(), *backendName, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, kind string, out io.Writer) error {
	dir, err := os.MkdirTemp("", "batpak-quickstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	store, err := backend.Open(ctx, kind, dir) // batpak.Open(dir) on the embedded store
	if err != nil {
		return err
	}
	defer store.Close()

	moved := event.MustCustom(0x1, 0x001)
	alice := event.MustCoordinate("player:alice", "room:dungeon")

	for _, step := range []Moved{{"gate", "hall"}, {"hall", "crypt"}} {
		r, err := store.Append(ctx, alice, moved, step)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "appended %s: sequence %d, global %d\n", r.Coordinate, r.Sequence, r.Global)
	}

	for ev, err := range store.Stream(ctx, "player:alice") {
		if err != nil {
			return err
		}
		m, err := batpak.Decode[Moved](ev)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "#%d %s -> %s (chain ok: %t)\n", ev.Sequence, m.From, m.To,
			ev.Sequence == 0 || ev.Hash.Prev != [32]byte{})
	}
	if err := store.Close(); err != nil {
		return err
	}
	fmt.Fprintln(out, "closed")
	return nil
}
