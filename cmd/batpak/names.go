package main

import (
	"fmt"
	"io"

	"github.com/batpak-go/batpak/kinds"
	"github.com/batpak-go/batpak/vfs"
)

// readKindNames reads the kind names the store in dir keeps (package
// kinds), without opening it, so a damaged store's names are read too. A
// names file that does not read back is a warning, never a failure: the
// kinds are then printed as numbers.
func readKindNames(dir string, stderr io.Writer) kinds.Table {
	t, err := kinds.ReadFile(vfs.OS, dir)
	if err != nil {
		fmt.Fprintf(stderr, "batpak: warning: %v; kinds are shown as numbers\n", err)
		return kinds.Table{}
	}
	return t
}
