package writer

import (
	"testing"

	"github.com/batpak-go/batpak/vfs"
)

// FuzzReadReservation feeds hostile bytes to the SEQUENCE file reader: a
// damaged file is an error, never a panic or a silently wrong mark.
func FuzzReadReservation(f *testing.F) {
	mem := vfs.NewMem()
	if err := mem.MkdirAll("/db"); err != nil {
		f.Fatal(err)
	}
	if err := writeReservation(mem, "/db", 1<<20); err != nil {
		f.Fatal(err)
	}
	good, err := mem.Open("/db/" + reserveFile)
	if err != nil {
		f.Fatal(err)
	}
	b := make([]byte, reserveSize)
	good.ReadAt(b, 0)
	good.Close()
	f.Add(b)
	f.Fuzz(func(t *testing.T, in []byte) {
		fs := vfs.NewMem()
		fs.MkdirAll("/db")
		file, err := fs.Create("/db/" + reserveFile)
		if err != nil {
			t.Fatal(err)
		}
		file.WriteAt(in, 0)
		file.Close()
		mark, err := ReadReservation(fs, "/db")
		if err == nil && len(in) >= reserveSize && string(in[:reserveSize]) != string(b) && mark == 1<<20 {
			t.Fatal("a different file read back as the original mark")
		}
	})
}
