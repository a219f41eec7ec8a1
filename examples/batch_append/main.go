// Command batch_append moves an item between two players' inventories as
// one atomic batch — the withdrawal and the deposit commit together or not
// at all — and shows that one failing item rejects the whole batch.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/examples/internal/backend"
)

// Change is an inventory change.
type Change struct {
	Item  string `msgpack:"item"`
	Delta int    `msgpack:"delta"`
}

var (
	granted   = event.MustCustom(0x2, 0x001)
	withdrawn = event.MustCustom(0x2, 0x002)
	deposited = event.MustCustom(0x2, 0x003)
)

var backendName = backend.Flag()

func main() {
	flag.Parse()
	if err := run(context.Background(), *backendName, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, kind string, out io.Writer) error {
	dir, err := os.MkdirTemp("", "batpak-batch-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	store, err := backend.Open(ctx, kind, dir)
	if err != nil {
		return err
	}
	defer store.Close()
	alice := event.MustCoordinate("inventory:alice", "guild:north")
	bob := event.MustCoordinate("inventory:bob", "guild:north")

	if _, err := store.Append(ctx, alice, granted, Change{"sword", 1}); err != nil {
		return err
	}

	// The transfer: both sides in one batch. The deposit names the
	// withdrawal as its cause; the expected sequences make the batch fail
	// if either inventory changed since we looked.
	transfer := []batpak.BatchItem{
		{Coord: alice, Kind: withdrawn, Payload: Change{"sword", -1}, Options: event.Expect(1)},
		{Coord: bob, Kind: deposited, Payload: Change{"sword", 1}, Options: event.Expect(0), Cause: batpak.CauseItem(0)},
	}
	receipts, err := store.AppendBatch(ctx, transfer)
	if err != nil {
		return err
	}
	for _, r := range receipts {
		fmt.Fprintf(out, "committed %-18s seq %d global %d\n", r.Coordinate.Entity(), r.Sequence, r.Global)
	}
	fmt.Fprintf(out, "deposit caused by withdrawal: %t\n", receipts[1].Causation == receipts[0].ID)

	// Replaying the same transfer: alice's inventory has moved on, so the
	// first item's expected sequence fails and nothing of the batch is written.
	before, err := backend.Count(ctx, store)
	if err != nil {
		return err
	}
	_, err = store.AppendBatch(ctx, transfer)
	var item *batpak.BatchItemError
	var mismatch *batpak.SequenceMismatchError
	if !errors.As(err, &item) || !errors.As(err, &mismatch) {
		return fmt.Errorf("expected a rejected batch, got %v", err)
	}
	fmt.Fprintf(out, "rejected at item %d: %s expected next %d, actual %d\n", item.Item, mismatch.Entity, mismatch.Expected, mismatch.Actual)
	after, err := backend.Count(ctx, store)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "events before %d, after %d\n", before, after)
	return store.Close()
}
