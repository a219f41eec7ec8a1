package receipt_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log"

	"github.com/batpak-go/batpak/receipt"
)

// A receipt's holder checks it with the store's public key alone.
func ExampleSigned_Verify() {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	// What a store with WithReceiptSigner hands out (Receipt.Signed).
	c := receipt.Claim{Global: 42, Entity: "order:17", Sequence: 3, Hash: [32]byte{0x9f, 0x2c}}
	s := receipt.Signed{Claim: c, Signature: receipt.Sign(key, &c)}
	doc, err := json.Marshal(s)
	if err != nil {
		log.Fatal(err)
	}

	// Elsewhere, later, without the store.
	var got receipt.Signed
	if err := json.Unmarshal(doc, &got); err != nil {
		log.Fatal(err)
	}
	fmt.Println("as sent:", got.Verify(pub))
	got.Global = 41
	fmt.Println("one field changed:", errors.Is(got.Verify(pub), receipt.ErrBadSignature))
	// Output:
	// as sent: <nil>
	// one field changed: true
}

// The signed bytes, for an implementation in another language: the
// package documentation lays them out; this is the test vector.
func ExampleClaim_Message() {
	fmt.Printf("%x\n", vectorClaim.Message()[:17])
	fmt.Println(len(vectorClaim.Message()), "bytes")
	// Output:
	// 62617470616b2072656365697074203100
	// 111 bytes
}
