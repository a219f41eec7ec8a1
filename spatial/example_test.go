package spatial_test

import (
	"context"
	"fmt"
	"os"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/spatial"
)

// Events happen in chunks; a query over the 3×3 chunks around a player
// reads only those chunks' events, and one over a zone every chunk of it.
func Example() {
	dir, _ := os.MkdirTemp("", "spatial-example")
	defer os.RemoveAll(dir)
	store, err := batpak.Open(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	ctx := context.Background()
	moved := event.MustCustom(0x1, 0x001)

	for i, pos := range [][2]int{{5, 5}, {20, 3}, {40, 40}, {-3, 12}} {
		here := spatial.At(1, pos[0], pos[1], 16) // chunks of 16×16 tiles
		coord := event.MustCoordinate(fmt.Sprintf("player:%d", i), here.Scope())
		if _, err := store.Append(ctx, coord, moved, map[string]int{"x": pos[0], "y": pos[1]}); err != nil {
			fmt.Println(err)
			return
		}
	}
	if _, err := store.Append(ctx, event.MustCoordinate("player:9", spatial.Chunk{Zone: 2}.Scope()), moved, nil); err != nil {
		fmt.Println(err)
		return
	}

	near := spatial.Area(spatial.Chunk{Zone: 1, X: 0, Y: 0}.Around(1)...)
	for ev, err := range store.Query(ctx, near) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("near 0,0:", ev.Coordinate)
	}
	n := 0
	for _, err := range store.Query(ctx, spatial.Zone(1)) {
		if err == nil {
			n++
		}
	}
	fmt.Println("in zone 1:", n)
	// Output:
	// near 0,0: player:0@zone:1/0,0
	// near 0,0: player:1@zone:1/1,0
	// near 0,0: player:3@zone:1/-1,0
	// in zone 1: 4
}
