package batpak_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"path/filepath"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// Snapshot copies the open store into an empty directory, with a manifest
// of checksums; VerifySnapshot checks the copy later, and the copy opens
// as a store of its own.
func ExampleStore_Snapshot() {
	dir, cleanup := exampleDir()
	defer cleanup()
	ctx := context.Background()
	store, err := batpak.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	for range 3 {
		if _, err := store.Append(ctx, event.MustCoordinate("player:1", "room:1"), moved, Move{From: "a", To: "b"}); err != nil {
			log.Fatal(err)
		}
	}
	backups, cleanupBackups := exampleDir() // outside the store's directory
	defer cleanupBackups()
	backup := filepath.Join(backups, "monday")
	man, err := store.Snapshot(ctx, backup)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("events up to:", man.LastGlobal, "files:", len(man.Files))

	if _, err := batpak.VerifySnapshot(ctx, backup); err != nil {
		log.Fatal(err)
	}
	fmt.Println("verifies")
	if _, err := store.Snapshot(ctx, backup); errors.Is(err, batpak.ErrSnapshotNotEmpty) {
		fmt.Println("a second snapshot needs a fresh directory")
	}

	copied, err := batpak.OpenReadOnly(backup)
	if err != nil {
		log.Fatal(err)
	}
	defer copied.Close()
	fmt.Println("the copy holds:", copied.Stats().Events)
	// Output:
	// events up to: 3 files: 1
	// verifies
	// a second snapshot needs a fresh directory
	// the copy holds: 3
}
