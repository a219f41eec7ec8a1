package keyring_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"path/filepath"
	"testing"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/keyring"
	"github.com/batpak-go/batpak/vfs"
)

// FuzzOpenKeyset hands Open arbitrary bytes as the keyset file: it must
// never panic or allocate beyond the file's size, and must answer with a
// keyring or one of its documented errors (ErrDamaged; ErrWrongKey from a
// check value that does not unwrap). The seeds are a real keyset — a
// header, two blocks, a shred's rewrite — and damaged variants of it.
func FuzzOpenKeyset(f *testing.F) {
	for _, seed := range keysetSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fsys := vfs.NewMem()
		if err := vfs.MkdirAllDurable(fsys, dir); err != nil {
			t.Fatal(err)
		}
		if err := vfs.WriteFileAtomic(fsys, dir, keyring.Name, b); err != nil {
			t.Fatal(err)
		}
		for _, w := range []keyring.Wrapper{nil, master} {
			kr, err := keyring.Open(fsys, dir, w, keyring.Options{ReadOnly: true})
			switch {
			case err == nil:
				if kr.Keys() < 0 || int64(kr.Keys()) > int64(len(b)) {
					t.Fatalf("%d keys from %d bytes", kr.Keys(), len(b))
				}
				kr.Close()
			case !errors.Is(err, keyring.ErrDamaged) && !errors.Is(err, keyring.ErrWrongKey):
				t.Fatalf("undocumented error: %v", err)
			}
		}
	})
}

// keysetSeeds makes a keyset with keys for six entities, one of them
// shredded, and returns it with damaged copies.
func keysetSeeds(f *testing.F) [][]byte {
	fsys := vfs.NewMem()
	if err := vfs.MkdirAllDurable(fsys, dir); err != nil {
		f.Fatal(err)
	}
	kr, err := keyring.Open(fsys, dir, master, keyring.Options{Create: true})
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range []string{"a", "b", "c", "d", "e", "f"} {
		if _, err := kr.Seal(event.MustCoordinate("user:"+e, "eu"), kind, 0, event.CodecRaw, []byte(e)); err != nil {
			f.Fatal(err)
		}
	}
	if _, err := kr.Shred("user:c", nil); err != nil {
		f.Fatal(err)
	}
	if err := kr.Close(); err != nil {
		f.Fatal(err)
	}
	file, err := fsys.Open(filepath.Join(dir, keyring.Name))
	if err != nil {
		f.Fatal(err)
	}
	size, _ := file.Size()
	good := make([]byte, size)
	if _, err := file.ReadAt(good, 0); err != nil {
		f.Fatal(err)
	}
	file.Close()
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x10
	huge := bytes.Clone(good)
	binary.LittleEndian.PutUint32(huge[8:], 0xFFFFFFFF)
	return [][]byte{
		good, flipped, huge,
		good[:len(good)/2], good[:len(good)-1], good[:8],
		append(bytes.Clone(good), 0, 0, 0, 0, 0, 0, 0, 0, 0),
		append(bytes.Clone(good), bytes.Repeat([]byte{0xAB}, 40)...),
	}
}
