package batpak_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// Move is the payload of the examples' events.
type Move struct {
	From string `msgpack:"from"`
	To   string `msgpack:"to"`
}

var (
	moved = event.MustCustom(0x1, 0x001)
	spoke = event.MustCustom(0x1, 0x002)
)

// exampleDir returns a fresh directory and a function that removes it.
func exampleDir() (string, func()) {
	dir, err := os.MkdirTemp("", "batpak-example-")
	if err != nil {
		log.Fatal(err)
	}
	return dir, func() { os.RemoveAll(dir) }
}

func ExampleOpen() {
	dir, cleanup := exampleDir()
	defer cleanup()

	store, err := batpak.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	// A directory is held by one open store at a time.
	_, err = batpak.Open(dir)
	fmt.Println("second open locked:", errors.Is(err, batpak.ErrLocked))

	if err := store.Close(); err != nil {
		log.Fatal(err)
	}
	_, err = store.Append(context.Background(), event.MustCoordinate("player:alice", "room:hall"), moved, Move{})
	fmt.Println("append after close:", errors.Is(err, batpak.ErrClosed))

	// Reopening recovers the log.
	store, err = batpak.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	fmt.Println("events:", store.Stats().Events)
	// Output:
	// second open locked: true
	// append after close: true
	// events: 0
}

func ExampleStore_Append() {
	dir, cleanup := exampleDir()
	defer cleanup()
	store, err := batpak.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	alice := event.MustCoordinate("player:alice", "room:dungeon")

	for _, m := range []Move{{"gate", "hall"}, {"hall", "crypt"}} {
		r, err := store.Append(ctx, alice, moved, m)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: sequence %d, global %d\n", r.Coordinate, r.Sequence, r.Global)
	}

	// An expected sequence makes an append conditional.
	_, err = store.AppendWithOptions(ctx, alice, moved, Move{"crypt", "gate"}, event.Expect(1))
	var mismatch *batpak.SequenceMismatchError
	if errors.As(err, &mismatch) {
		fmt.Printf("conflict on %s: expected %d, actual %d\n", mismatch.Entity, mismatch.Expected, mismatch.Actual)
	}

	// An idempotency key makes a retry return the original receipt.
	opts := batpak.AppendOptions{IdempotencyKey: "alice-3"}
	first, _ := store.AppendWithOptions(ctx, alice, moved, Move{"crypt", "gate"}, opts)
	retry, _ := store.AppendWithOptions(ctx, alice, moved, Move{"crypt", "gate"}, opts)
	fmt.Println("retry replayed:", retry.Replayed, "same event:", retry.ID == first.ID)
	// Output:
	// player:alice@room:dungeon: sequence 0, global 1
	// player:alice@room:dungeon: sequence 1, global 2
	// conflict on player:alice: expected 1, actual 2
	// retry replayed: true same event: true
}

func ExampleStore_Get() {
	dir, cleanup := exampleDir()
	defer cleanup()
	store, err := batpak.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()

	r, err := store.Append(ctx, event.MustCoordinate("player:bob", "room:hall"), moved, Move{"door", "stairs"})
	if err != nil {
		log.Fatal(err)
	}
	ev, err := store.Get(ctx, r.ID)
	if err != nil {
		log.Fatal(err)
	}
	m, err := batpak.Decode[Move](ev)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s moved from %s to %s (kind %v)\n", ev.Coordinate.Entity(), m.From, m.To, ev.Kind)

	_, err = store.Get(ctx, event.NewID())
	fmt.Println("unknown id:", errors.Is(err, batpak.ErrNotFound))
	// Output:
	// player:bob moved from door to stairs (kind 0x1:0x001)
	// unknown id: true
}

func ExampleStore_Query() {
	dir, cleanup := exampleDir()
	defer cleanup()
	store, err := batpak.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()

	for _, a := range []struct {
		entity, scope string
		kind          batpak.EventKind
		move          Move
	}{
		{"player:alice", "room:hall", moved, Move{"gate", "hall"}},
		{"npc:orc", "room:hall", spoke, Move{}},
		{"player:bob", "room:crypt", moved, Move{"stairs", "crypt"}},
		{"player:alice", "room:hall", moved, Move{"hall", "crypt"}},
	} {
		if _, err := store.Append(ctx, event.MustCoordinate(a.entity, a.scope), a.kind, a.move); err != nil {
			log.Fatal(err)
		}
	}

	// Every player's moves, in global order.
	for ev, err := range store.Query(ctx, event.ForEntity("player:*").WithKind(moved)) {
		if err != nil {
			log.Fatal(err)
		}
		m, _ := batpak.Decode[Move](ev)
		fmt.Printf("#%d %s: %s -> %s\n", ev.Global, ev.Coordinate.Entity(), m.From, m.To)
	}
	// Everything that happened in the hall.
	n := 0
	for _, err := range store.ByScope(ctx, "room:hall") {
		if err != nil {
			log.Fatal(err)
		}
		n++
	}
	fmt.Println("events in the hall:", n)
	// Output:
	// #1 player:alice: gate -> hall
	// #3 player:bob: stairs -> crypt
	// #4 player:alice: hall -> crypt
	// events in the hall: 3
}

func ExampleStore_AppendBatch() {
	dir, cleanup := exampleDir()
	defer cleanup()
	store, err := batpak.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	alice := event.MustCoordinate("player:alice", "room:hall")
	bob := event.MustCoordinate("player:bob", "room:hall")

	// All or nothing: a trade is two events that readers see together.
	rs, err := store.AppendBatch(ctx, []batpak.BatchItem{
		{Coord: alice, Kind: spoke, Payload: "offers a sword"},
		{Coord: bob, Kind: spoke, Payload: "accepts", Cause: batpak.CauseItem(0)},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("receipts:", len(rs), "bob's cause is alice's offer:", rs[1].Causation == rs[0].ID)

	// One bad item rejects the whole batch; nothing is written.
	_, err = store.AppendBatch(ctx, []batpak.BatchItem{
		{Coord: alice, Kind: spoke, Payload: "offers a shield"},
		{Coord: bob, Kind: spoke, Payload: "accepts", Options: event.Expect(0)},
	})
	var bad *batpak.BatchItemError
	if errors.As(err, &bad) {
		fmt.Println("rejected at item", bad.Item, "sequence mismatch:", errors.Is(err, batpak.ErrSequenceMismatch))
	}
	fmt.Println("events:", store.Stats().Events)
	// Output:
	// receipts: 2 bob's cause is alice's offer: true
	// rejected at item 1 sequence mismatch: true
	// events: 2
}
