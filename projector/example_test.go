package projector_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/projector"
)

var visited = event.MustCustom(0x3, 0x001)

// Visits counts an entity's visits.
type Visits struct{ N int }

func (*Visits) Projection() projector.Spec {
	return projector.Spec{Name: "visits", Version: 1, Kinds: []event.EventKind{visited}, Incremental: true}
}

func (v *Visits) Apply(*event.StoredEvent) error { v.N++; return nil }

// A file cache keeps projected states across restarts: after a reopen the
// projection starts from the cached state and applies only newer events.
func ExampleOpenFileCache() {
	dir, _ := os.MkdirTemp("", "projector-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	page := event.MustCoordinate("page:home", "site")

	for run := range 2 {
		store, err := batpak.Open(filepath.Join(dir, "store"))
		if err != nil {
			log.Fatal(err)
		}
		cache, err := projector.OpenFileCache(filepath.Join(dir, "cache"))
		if err != nil {
			log.Fatal(err)
		}
		store.Append(ctx, page, visited, []byte{})
		v, err := batpak.Project[Visits](ctx, store, "page:home", batpak.Consistent, batpak.FromCache(cache))
		if err != nil {
			log.Fatal(err)
		}
		st := cache.Stats()
		fmt.Printf("run %d: %d visits (cache hits %d)\n", run, v.N, st.Hits)
		store.Close()
	}
	// Output:
	// run 0: 1 visits (cache hits 0)
	// run 1: 2 visits (cache hits 1)
}

// Project is the store-independent core: it folds a subject's events from
// any Log. Here the Log is a store's.
func ExampleProject() {
	dir, _ := os.MkdirTemp("", "projector-example-")
	defer os.RemoveAll(dir)
	store, err := batpak.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	for _, p := range []string{"page:home", "page:about", "page:home"} {
		store.Append(ctx, event.MustCoordinate(p, "site"), visited, []byte{})
	}
	res, err := projector.Project[Visits](ctx, store.ProjectionLog(), projector.Over(event.ForEntity("page:*")),
		projector.Consistent, projector.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d visits through global sequence %d\n", res.State.N, res.Watermark)
	// Output:
	// 3 visits through global sequence 3
}
