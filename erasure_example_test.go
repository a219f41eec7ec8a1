package batpak_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/keyring"
	"github.com/batpak-go/batpak/receipt"
)

// Contact is a payload holding personal data.
type Contact struct {
	Email string `msgpack:"email"`
}

var registered = event.MustCustom(0x1, 0x003)

func ExampleStore_Shred() {
	dir, cleanup := exampleDir()
	defer cleanup()
	ctx := context.Background()

	// The master key: 32 random bytes, kept in a secret manager, never
	// beside the store.
	var master [32]byte
	if _, err := rand.Read(master[:]); err != nil {
		log.Fatal(err)
	}
	store, err := batpak.Open(dir, batpak.WithEncryption(keyring.MasterKey(master)))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	alice := event.MustCoordinate("customer:alice", "shop")
	r, err := store.Append(ctx, alice, registered, Contact{Email: "alice@example.com"})
	if err != nil {
		log.Fatal(err)
	}

	// Alice asks to be forgotten: her key is destroyed, durably.
	if err := store.Shred(ctx, "customer:alice"); err != nil {
		log.Fatal(err)
	}
	ev, err := store.Get(ctx, r.ID)
	if err != nil {
		log.Fatal(err)
	}
	_, err = batpak.Decode[Contact](ev)
	fmt.Println("event still there:", ev.Coordinate, "sequence", ev.Sequence)
	fmt.Println("payload shredded:", errors.Is(err, batpak.ErrShredded))

	// Her later events get a new key, and read as usual.
	r, err = store.Append(ctx, alice, registered, Contact{Email: "new@example.com"})
	if err != nil {
		log.Fatal(err)
	}
	ev, err = store.Get(ctx, r.ID)
	if err != nil {
		log.Fatal(err)
	}
	c, err := batpak.Decode[Contact](ev)
	fmt.Println("later event:", c.Email, err)
	// Output:
	// event still there: customer:alice@shop sequence 0
	// payload shredded: true
	// later event: new@example.com <nil>
}

func ExampleWithEncryption_wrongKey() {
	dir, cleanup := exampleDir()
	defer cleanup()

	store, err := batpak.Open(dir, batpak.WithEncryption(keyring.MasterKey([32]byte{1})))
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Close(); err != nil {
		log.Fatal(err)
	}
	// Another key, or none: Open refuses before it changes anything.
	_, err = batpak.Open(dir, batpak.WithEncryption(keyring.MasterKey([32]byte{2})))
	fmt.Println("wrong key:", errors.Is(err, batpak.ErrWrongKey))
	_, err = batpak.Open(dir)
	fmt.Println("no key:", errors.Is(err, batpak.ErrKeyRequired))
	// Output:
	// wrong key: true
	// no key: true
}

func ExampleWithReceiptSigner() {
	dir, cleanup := exampleDir()
	defer cleanup()
	ctx := context.Background()

	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	store, err := batpak.Open(dir, batpak.WithReceiptSigner(key))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	r, err := store.Append(ctx, event.MustCoordinate("order:17", "shop"), registered, Contact{Email: "bob@example.com"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed by this store:", r.IsSigned() && r.Proof.Store == store.ID())

	// The receipt travels as JSON; whoever holds it and the public key
	// checks it without the store.
	b, err := json.Marshal(r.Signed())
	if err != nil {
		log.Fatal(err)
	}
	var got receipt.Signed
	if err := json.Unmarshal(b, &got); err != nil {
		log.Fatal(err)
	}
	fmt.Println("verifies:", got.Verify(pub))

	r.Sequence++ // a claim the store never signed
	fmt.Println("tampered:", errors.Is(batpak.VerifyReceipt(pub, r), batpak.ErrBadSignature))
	// Output:
	// signed by this store: true
	// verifies: <nil>
	// tampered: true
}
