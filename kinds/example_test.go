package kinds_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/kinds"
)

// Three releases of one event's payload.
type (
	MovedV1 struct{ X, Y int }
	MovedV2 struct {
		X, Y  int
		Speed string
	}
	Moved struct {
		To    string
		Dist  int
		Speed string
	}
)

// A program keeps one registry (batpak.DefineKind uses kinds.Default); the
// examples make their own so that they do not meet.
var (
	release1 = kinds.NewRegistry()
	release3 = kinds.NewRegistry()

	movedV1 = kinds.MustDefine[MovedV1](release1, "player.moved", 0x1, 0x002)
	moved   = kinds.MustDefine[Moved](release3, "player.moved", 0x1, 0x002, kinds.Version(3),
		kinds.Upcast(1, func(m MovedV1) (MovedV2, error) { return MovedV2{X: m.X, Y: m.Y, Speed: "walk"}, nil }),
		kinds.Upcast(2, func(m MovedV2) (Moved, error) {
			return Moved{To: fmt.Sprintf("%d,%d", m.X, m.Y), Dist: m.X + m.Y, Speed: m.Speed}, nil
		}))
)

// A store holds events of an old release and of the current one; the
// current kind reads both as its own type.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "kinds-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := batpak.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	alice := event.MustCoordinate("player:alice", "room:1")
	if _, err := batpak.AppendTyped(ctx, store, movedV1, alice, MovedV1{X: 2, Y: 3}); err != nil { // release 1
		log.Fatal(err)
	}
	if _, err := batpak.AppendTyped(ctx, store, moved, alice, Moved{To: "crypt", Dist: 7, Speed: "run"}); err != nil {
		log.Fatal(err)
	}
	for e, err := range moved.Query(ctx, store, event.ForEntity("player:alice")) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("stored as version %d, read as %+v\n", e.PayloadVersion, e.Data)
	}
	names, err := store.KindNames().Table(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("the store names", moved.Kind(), names.Label(moved.Kind()))
	// Output:
	// stored as version 1, read as {To:2,3 Dist:5 Speed:walk}
	// stored as version 3, read as {To:crypt Dist:7 Speed:run}
	// the store names 0x1:0x002 player.moved
}

// Define checks the chain of upcasters when the kind is defined.
func ExampleDefine() {
	_, err := kinds.Define[Moved](kinds.NewRegistry(), "player.moved", 0x1, 0x002, kinds.Version(3),
		kinds.Upcast(2, func(m MovedV2) (Moved, error) { return Moved{}, nil }),
		kinds.Upcast(1, func(m MovedV1) (MovedV1, error) { return m, nil }))
	fmt.Println(err)
	// Output:
	// kinds: invalid kind definition: "player.moved": upcaster 1→2 gives kinds_test.MovedV1, but upcaster 2→3 takes kinds_test.MovedV2
}

// A registry refuses a second type on a kind, and a second kind with a
// name, when they are defined.
func ExampleRegistry() {
	r := kinds.NewRegistry()
	kinds.MustDefine[Moved](r, "player.moved", 0x1, 0x002)
	_, err := kinds.Define[MovedV1](r, "player.walked", 0x1, 0x002)
	fmt.Println(err)
	_, err = kinds.Define[MovedV1](r, "player.moved", 0x1, 0x003)
	fmt.Println(err)
	// Output:
	// kinds: kind or name already defined: kind 0x1002 is already "player.moved" (type kinds_test.Moved); "player.walked" (type kinds_test.MovedV1) cannot have it too
	// kinds: kind or name already defined: name "player.moved" is already kind 0x1002 (type kinds_test.Moved); kind 0x1003 (type kinds_test.MovedV1) cannot have it too
}

// A kind reads an event of any older version; a newer one is an error.
func ExampleKind_Decode() {
	b, codec, _ := event.Encode(event.CodecMsgPack, MovedV1{X: 1, Y: 1})
	old := &event.StoredEvent{Header: event.Header{Kind: moved.Kind(), Global: 1}, Codec: codec, PayloadVersion: 1, Payload: b}
	m, err := moved.Decode(old)
	fmt.Printf("%+v %v\n", m, err)

	b, codec, _ = event.Encode(event.CodecMsgPack, Moved{To: "x"})
	newer := &event.StoredEvent{Header: event.Header{Kind: moved.Kind(), Global: 2}, Codec: codec, PayloadVersion: 3, Payload: b}
	_, err = movedV1.Decode(newer)
	fmt.Println(err)
	// Output:
	// {To:1,1 Dist:2 Speed:walk} <nil>
	// kinds: payload version newer than the kind's: event 2 holds version 3 of player.moved (0x1002, version 1)
}
