package reader_test

import (
	"context"
	"fmt"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/vfs"
)

// Recover a store's directory read-only and read its events in global
// order through a RunReader, one reused event at a time.
func ExampleRunReader_Each() {
	fs := vfs.NewMem()
	s, err := batpak.Open("/example", batpak.WithFS(fs))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for i, entity := range []string{"player:alice", "player:bob", "player:alice"} {
		c := event.MustCoordinate(entity, "room:dungeon")
		if _, err := s.Append(ctx, c, event.MustCustom(1, 1), []byte(fmt.Sprint("move ", i))); err != nil {
			panic(err)
		}
	}
	if err := s.Close(); err != nil {
		panic(err)
	}

	rec, err := reader.Recover(reader.Options{FS: fs, Dir: "/example", ReadOnly: true})
	if err != nil {
		panic(err)
	}
	defer rec.Segments.Close()
	var es []index.Entry
	for e := range rec.Index.Query(event.AllEvents(), 0) {
		es = append(es, e)
	}
	r := rec.Segments.Runs(rec.Index)
	defer r.Release()
	err = r.Each(es, func(ev *event.StoredEvent) error {
		// ev and its payload are reused: copy what you keep.
		fmt.Printf("%d %v #%d %s\n", ev.Global, ev.Coordinate, ev.Sequence, ev.Payload)
		return nil
	})
	fmt.Println(err)
	// Output:
	// 1 player:alice@room:dungeon #0 move 0
	// 2 player:bob@room:dungeon #0 move 1
	// 3 player:alice@room:dungeon #1 move 2
	// <nil>
}
