package keyring_test

import (
	"fmt"
	"testing"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/keyring"
	"github.com/batpak-go/batpak/vfs"
)

// benchPayload is about the size of BENCH.md's payload ({"x": i, "y":
// 2*i} in MessagePack) padded to a small record's size.
var benchPayload = make([]byte, 64)

// BenchmarkSeal is the CPU sealing adds to an append, on the appending
// goroutine: a nonce from crypto/rand and XChaCha20-Poly1305 over the
// payload, for 1,000 entities whose keys exist already.
func BenchmarkSeal(b *testing.B) {
	kr := openBench(b)
	coords := benchCoords()
	for _, c := range coords { // give every entity its key first
		if _, err := kr.Seal(c, kind, 0, event.CodecMsgPack, benchPayload); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload)))
	for i := 0; b.Loop(); i++ {
		if _, err := kr.Seal(coords[i%len(coords)], kind, 0, event.CodecMsgPack, benchPayload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen is the CPU opening adds to reading one event's payload
// (decrypted in place, its key unwrapped already).
func BenchmarkOpen(b *testing.B) {
	kr := openBench(b)
	c := event.MustCoordinate("player:1", "room:1")
	sealed, err := kr.Seal(c, kind, 0, event.CodecJSON, benchPayload)
	if err != nil {
		b.Fatal(err)
	}
	v := view(b, c, kind, 0, sealed)
	box := append([]byte(nil), v.Payload...)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload)))
	for b.Loop() {
		copy(v.Payload, box) // in place: restore the sealed bytes
		if _, err := kr.Open(v, true); err != nil {
			b.Fatal(err)
		}
	}
}

func openBench(b *testing.B) *keyring.Keyring {
	fsys := vfs.NewMem()
	if err := vfs.MkdirAllDurable(fsys, dir); err != nil {
		b.Fatal(err)
	}
	kr, err := keyring.Open(fsys, dir, master, keyring.Options{Create: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { kr.Close() })
	return kr
}

func benchCoords() []event.Coordinate {
	cs := make([]event.Coordinate, 1000)
	for i := range cs {
		cs[i] = event.MustCoordinate(fmt.Sprintf("player:%d", i), fmt.Sprintf("room:%d", i%10))
	}
	return cs
}
