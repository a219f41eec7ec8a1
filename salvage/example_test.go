package salvage_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/salvage"
)

// Run copies what is intact of a store into a new one and says what was
// lost; here nothing is.
func ExampleRun() {
	tmp, err := os.MkdirTemp("", "salvage-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	src, dst := filepath.Join(tmp, "store"), filepath.Join(tmp, "rescued")
	s, err := batpak.Open(src)
	if err != nil {
		log.Fatal(err)
	}
	for i := range 3 {
		if _, err := s.Append(context.Background(), event.MustCoordinate("player:1", "room:1"), event.MustCustom(1, 1), map[string]int{"x": i}); err != nil {
			log.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		log.Fatal(err)
	}

	rep, err := salvage.Run(context.Background(), src, dst, salvage.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("kept %d events; lost: %s; clean: %v\n", rep.EventsKept, rep.Lost, rep.Clean())
	// Output: kept 3 events; lost: 0 known; clean: true
}
