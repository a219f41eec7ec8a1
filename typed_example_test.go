package batpak_test

import (
	"context"
	"fmt"
	"log"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/kinds"
	"github.com/batpak-go/batpak/projector"
)

// Two shapes of one payload: release 1 appended a HopV1, this release a Hop.
type (
	HopV1 struct{ Rooms int }
	Hop   struct {
		Rooms int
		By    string
	}
)

// Hopped is this release's kind, in the default registry, at version 2.
var Hopped = batpak.DefineKind[Hop]("example.hopped", 0x5, 0x001, kinds.Version(2),
	kinds.Upcast(1, func(h HopV1) (Hop, error) { return Hop{Rooms: h.Rooms, By: "foot"}, nil }))

// hoppedV1 is the kind as release 1 defined it (its own program, its own
// registry).
var hoppedV1 = kinds.MustDefine[HopV1](kinds.NewRegistry(), "example.hopped", 0x5, 0x001)

// Hops is a projection that knows only this release's shape.
type Hops struct{ Rooms, ByFoot int }

func (*Hops) Projection() projector.Spec {
	return projector.Spec{Name: "hops", Version: 1, Kinds: []event.EventKind{Hopped.Kind()}, Incremental: true}
}

func (h *Hops) Apply(ev *event.StoredEvent) error {
	hop, err := batpak.DecodeAs[Hop](ev) // a version-1 event arrives as a Hop
	if err != nil {
		return err
	}
	h.Rooms += hop.Rooms
	if hop.By == "foot" {
		h.ByFoot++
	}
	return nil
}

// AppendTyped appends a value as its kind; the store records the payload
// version and keeps the kind's name.
func ExampleAppendTyped() {
	dir, cleanup := exampleDir()
	defer cleanup()
	store, err := batpak.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	bob := event.MustCoordinate("player:bob", "room:hall")

	if _, err := batpak.AppendTyped(ctx, store, hoppedV1, bob, HopV1{Rooms: 2}); err != nil { // an old release
		log.Fatal(err)
	}
	r, err := batpak.AppendTyped(ctx, store, Hopped, bob, Hop{Rooms: 1, By: "horse"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := store.AppendBatch(ctx, []batpak.BatchItem{batpak.TypedItem(Hopped, bob, Hop{Rooms: 3, By: "foot"})}); err != nil {
		log.Fatal(err)
	}

	e, err := Hopped.Get(ctx, store, r.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("event %d: version %d, %+v\n", e.Global, e.PayloadVersion, e.Data)
	h, err := batpak.Project[Hops](ctx, store, "player:bob", batpak.Consistent)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("projected over both versions: %+v\n", h)
	names, err := store.KindNames().Table(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("kept name:", names.Label(Hopped.Kind()))
	// Output:
	// event 2: version 2, {Rooms:1 By:horse}
	// projected over both versions: {Rooms:6 ByFoot:2}
	// kept name: example.hopped
}

// DecodeAs reads an event from any path as the type its kind is bound to.
func ExampleDecodeAs() {
	dir, cleanup := exampleDir()
	defer cleanup()
	store, err := batpak.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	if _, err := batpak.AppendTyped(ctx, store, hoppedV1, event.MustCoordinate("player:eve", "room:hall"), HopV1{Rooms: 5}); err != nil {
		log.Fatal(err)
	}
	ev, err := store.Latest(ctx, "player:eve")
	if err != nil {
		log.Fatal(err)
	}
	hop, err := batpak.DecodeAs[Hop](ev)
	fmt.Printf("%+v %v\n", hop, err)
	_, err = batpak.DecodeAs[HopV1](ev)
	fmt.Println(err)
	// Output:
	// {Rooms:5 By:foot} <nil>
	// kinds: kind bound to another type: "example.hopped" (kind 0x5001) is batpak_test.Hop, not batpak_test.HopV1
}
