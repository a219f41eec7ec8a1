package keyring_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/keyring"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// The store does all of this for WithEncryption; the keyring on its own
// seals a payload for an event, opens it as the read path does, and
// forgets it by shredding the entity's key.
func Example() {
	fsys := vfs.NewMem()
	if err := vfs.MkdirAllDurable(fsys, "/store"); err != nil {
		log.Fatal(err)
	}
	master := keyring.MasterKey([32]byte{0x42}) // in real use: 32 random bytes from a secret manager
	kr, err := keyring.Open(fsys, "/store", master, keyring.Options{Create: true})
	if err != nil {
		log.Fatal(err)
	}
	defer kr.Close()

	coord := event.MustCoordinate("customer:alice", "shop")
	kind := event.MustCustom(1, 1)
	sealed, err := kr.Seal(coord, kind, 0, event.CodecRaw, []byte("alice@example.com"))
	if err != nil {
		log.Fatal(err)
	}

	// The event record as the writer stores it, and its view as a reader
	// parses it.
	rec := segment.EventRecord{ID: event.NewID(), Kind: kind, Global: 1, Codec: event.CodecRaw, Sealed: true,
		Entity: coord.Entity(), Scope: coord.Scope(), Payload: sealed}
	frame, _ := segment.AppendEvent(nil, &rec, true, [32]byte{})
	body, _, err := segment.ReadFrame(frame)
	if err != nil {
		log.Fatal(err)
	}
	var v segment.EventView
	if err := segment.ParseEvent(body, &v); err != nil {
		log.Fatal(err)
	}
	plain, err := kr.Open(&v, false)
	fmt.Printf("opened: %s %v\n", plain, err)

	key, _ := segment.ParseSealed(sealed)
	n, err := kr.Shred("customer:alice", []uint64{key.Key})
	fmt.Println("keys destroyed:", n, err)
	_, err = kr.Open(&v, false)
	fmt.Println("after the shred:", errors.Is(err, event.ErrShredded))

	// Another master key does not open the keyset, and changes nothing.
	_, err = keyring.Open(fsys, "/store", keyring.MasterKey([32]byte{0x43}), keyring.Options{})
	fmt.Println("wrong key:", errors.Is(err, keyring.ErrWrongKey))
	// Output:
	// opened: alice@example.com <nil>
	// keys destroyed: 1 <nil>
	// after the shred: true
	// wrong key: true
}
