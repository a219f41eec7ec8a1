package vfs_test

import (
	"errors"
	"fmt"

	"github.com/batpak-go/batpak/vfs"
)

// A view made by WithModes creates with other modes; LooseModes finds what
// grants group or other users more than wanted.
func ExampleWithModes() {
	fsys := vfs.NewMem()
	shared := vfs.WithModes(fsys, vfs.Modes{File: 0o640, Dir: 0o750})
	_ = shared.MkdirAll("/db")
	f, _ := shared.Create("/db/log")
	_ = f.Close()

	m, _ := fsys.Mode("/db/log")
	fmt.Printf("%v\n", m)
	loose, _ := vfs.LooseModes(fsys, "/db", vfs.PrivateModes)
	for _, l := range loose {
		fmt.Println(l)
	}
	// Output:
	// -rw-r-----
	// directory /db has mode 0750, which grants group or other users group rx (expected at most 0700)
	// file /db/log has mode 0640, which grants group or other users group r (expected at most 0600)
}

func ExamplePortableName() {
	for _, name := range []string{"orders", "nul.txt", "a:b", "draft."} {
		err := vfs.PortableName(name)
		fmt.Println(name, errors.Is(err, vfs.ErrNotPortable))
	}
	// Output:
	// orders false
	// nul.txt true
	// a:b true
	// draft. true
}
