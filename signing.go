package batpak

import (
	"crypto/ed25519"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/receipt"
)

// Errors of receipt verification (package receipt).
var (
	// ErrBadSignature is returned by VerifyReceipt for a receipt whose
	// signature does not verify: a field was changed, or another key
	// signed it.
	ErrBadSignature = receipt.ErrBadSignature
	// ErrMalformedReceipt is returned by VerifyReceipt for a receipt that
	// is not signed, or a key of the wrong size.
	ErrMalformedReceipt = receipt.ErrMalformed
)

// WithReceiptSigner makes the store sign every receipt it hands out —
// single and pipelined appends, batches, reactions, gatekeeper commits,
// idempotent replays — with key: Receipt.Proof holds the store's id and
// an Ed25519 signature over the store's id, the event's
// id, global sequence, entity, per-entity sequence and chain hash, which
// anyone holding the public key can check offline (VerifyReceipt, package
// receipt, `batpak verify-receipt`, or any Ed25519 library: the bytes are
// in docs/FORMAT.md). The hash covers the rest of the event, so the store
// needs its hash chain (WithHashChain(false) is refused).
//
// Signing runs on the appending goroutine after the writer has answered,
// never in the writer: about 20 µs of CPU per receipt (docs/TUNING.md).
func WithReceiptSigner(key ed25519.PrivateKey) Option {
	return func(c *config) { c.signer = key }
}

// VerifyReceipt checks a signed receipt with the store's public key alone:
// nil if the signature covers the receipt's store id, event id, global
// sequence, entity, sequence and hash as they are; ErrBadSignature if any
// differs or another key signed it; ErrMalformedReceipt if it is not
// signed.
func VerifyReceipt(pub ed25519.PublicKey, r Receipt) error {
	s := r.Signed()
	return s.Verify(pub)
}

// ID returns the store's id: a UUIDv7 made at its first writable Open and
// kept in the file STOREID, the same across reopens; a copy (Snapshot,
// salvage) gets its own when first opened for writing. Zero on a
// read-only store that has none yet.
func (s *Store) ID() ID { return s.id }

// sign attaches the store's id and signature to the receipt, with
// WithReceiptSigner (else it leaves Proof nil).
func (s *Store) sign(r *Receipt) {
	if s.cfg.signer == nil {
		return
	}
	p := &event.Proof{Store: s.id}
	r.Proof = p
	c := r.Claim()
	copy(p.Signature[:], receipt.Sign(s.cfg.signer, &c))
}

// signAll signs every receipt of rs.
func (s *Store) signAll(rs []Receipt) {
	for i := range rs {
		s.sign(&rs[i])
	}
}
