package receipt_test

import (
	"crypto/ed25519"
	"testing"

	"github.com/batpak-go/batpak/receipt"
)

// BenchmarkSign is the CPU a store with WithReceiptSigner spends per
// receipt (docs/TUNING.md, "Encryption and signed receipts").
func BenchmarkSign(b *testing.B) {
	c := vectorClaim
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.Global = uint64(i)
		receipt.Sign(vectorKey, &c)
	}
}

// BenchmarkVerify is what checking one receipt costs its holder.
func BenchmarkVerify(b *testing.B) {
	pub := vectorKey.Public().(ed25519.PublicKey)
	sig := receipt.Sign(vectorKey, &vectorClaim)
	b.ReportAllocs()
	for b.Loop() {
		if err := receipt.Verify(pub, &vectorClaim, sig); err != nil {
			b.Fatal(err)
		}
	}
}
