package batpak_test

import (
	"fmt"
	"log"
	"path/filepath"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/vfs"
)

// A store shared with the services of one Unix group: they may read it,
// others may not. By default files are 0600 and directories 0700.
func ExampleWithFileMode() {
	dir, cleanup := exampleDir()
	defer cleanup()
	fsys := vfs.NewMem() // on the real disk the umask also applies
	store, err := batpak.Open(filepath.Join(dir, "db"), batpak.WithFS(fsys), batpak.WithFileMode(0o640, 0o750))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	m, _ := fsys.Mode(filepath.Join(dir, "db"))
	fmt.Println(m)
	// Output: drwxr-x---
}
