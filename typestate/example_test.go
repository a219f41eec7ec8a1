package typestate_test

import (
	"context"
	"fmt"

	"github.com/batpak-go/batpak/typestate"
)

func Example() {
	ctx := context.Background()
	store := newFakeStore() // a *batpak.Store in a real program

	door := typestate.Start[Locked](doorCoord)
	closed, _, err := typestate.ApplyTransition(ctx, store, door, unlock(Key{ID: "brass"}))
	if err != nil {
		fmt.Println(err)
		return
	}
	opened, rc, err := typestate.ApplyTransition(ctx, store, closed, open())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(opened, "after event", rc.Sequence)

	// Applying unlock to opened, or open to door, would not compile.
	// A stale handle compiles but is refused by the store:
	_, _, err = typestate.ApplyTransition(ctx, store, closed, open())
	fmt.Println(err)
	// Output:
	// door:north@room:crypt in open #2 after event 1
	// fake: sequence mismatch
}

func ExampleLoad() {
	ctx := context.Background()
	store := newFakeStore()
	closed, _, _ := typestate.ApplyTransition(ctx, store, typestate.Start[Locked](doorCoord), unlock(Key{ID: "brass"}))
	_, _, _ = typestate.ApplyTransition(ctx, store, closed, open())

	// After a restart: replay the door and get a typed handle back.
	snap, err := typestate.Load(ctx, store, doorCoord)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("state:", snap.State(), "steps:", snap.Steps())
	switch snap.State() {
	case Open{}.StateName():
		opened, err := typestate.Resume[Open](snap)
		if err != nil {
			fmt.Println(err)
			return
		}
		closed, _, err := typestate.ApplyTransition(ctx, store, opened, shut())
		fmt.Println(closed, err)
	case Closed{}.StateName(), Locked{}.StateName():
		fmt.Println("not open")
	}
	// Output:
	// state: open steps: 2
	// door:north@room:crypt in closed #3 <nil>
}

func ExampleHistory() {
	ctx := context.Background()
	store := newFakeStore()
	closed, _, _ := typestate.ApplyTransition(ctx, store, typestate.Start[Locked](doorCoord), unlock(Key{ID: "brass"}))
	_, _, _ = typestate.ApplyTransition(ctx, store, closed, lock(Key{ID: "iron"}))

	for step, err := range typestate.History(ctx, store, doorCoord.Entity()) {
		if err != nil {
			fmt.Println(err)
			return
		}
		_, key, _ := typestate.Decode[Key](step.Event)
		fmt.Printf("#%d %s -> %s with the %s key\n", step.Event.Sequence, step.From, step.To, key.ID)
	}
	// Output:
	// #0 locked -> closed with the brass key
	// #1 closed -> locked with the iron key
}
