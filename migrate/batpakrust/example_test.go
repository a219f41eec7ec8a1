package batpakrust_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/internal/rustenc"
	"github.com/batpak-go/batpak/migrate/batpakrust"
)

// Import copies a batpak-rust store into a batpak-go store; running it
// again writes nothing twice.
func ExampleImport() {
	dir, err := os.MkdirTemp("", "batpakrust-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	rustDir, goDir := filepath.Join(dir, "rust"), filepath.Join(dir, "go")
	writeRustStore(rustDir) // stands for a directory batpak-rust 0.3.0 wrote

	ctx := context.Background()
	src, err := batpakrust.Open(rustDir)
	if err != nil {
		log.Fatal(err)
	}
	dst, err := batpak.Open(goDir)
	if err != nil {
		log.Fatal(err)
	}
	defer dst.Close()
	rep, err := batpakrust.Import(ctx, src, dst, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("imported %d events of %d entities, %d batch\n", rep.Imported, rep.Entities, rep.BatchesImported)

	again, err := batpakrust.Import(ctx, src, dst, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("again: %d written, %d already there\n", again.Imported, again.Replayed)

	type moved struct {
		X int `msgpack:"x"`
	}
	for ev, err := range dst.Stream(ctx, "player:1") {
		if err != nil {
			log.Fatal(err)
		}
		m, err := batpak.Decode[moved](ev)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("player:1 #%d x=%d\n", ev.Sequence, m.X)
	}
	// Output:
	// imported 4 events of 2 entities, 1 batch
	// again: 0 written, 4 already there
	// player:1 #0 x=1
	// player:1 #1 x=2
}

// writeRustStore writes a small batpak-rust store with the test encoder.
func writeRustStore(dir string) {
	b := rustenc.New(1)
	b.Append("player:1", "room:1", 0xF001, []byte{0x81, 0xa1, 'x', 1}) // {"x": 1}
	b.Batch(
		rustenc.Item{Entity: "player:1", Scope: "room:1", Kind: 0xF001, Payload: []byte{0x81, 0xa1, 'x', 2}},
		rustenc.Item{Entity: "player:2", Scope: "room:1", Kind: 0xF001, Payload: []byte{0x81, 0xa1, 'x', 3}},
	)
	b.Append("player:2", "room:1", 0xF001, []byte{0x81, 0xa1, 'x', 4})
	if err := b.WriteDir(dir, true); err != nil {
		log.Fatal(err)
	}
}
