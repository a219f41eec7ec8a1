package receipt

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Errors of Verify.
var (
	// ErrBadSignature: the signature does not verify over the claim with
	// this key: a field was changed, or another key signed it.
	ErrBadSignature = errors.New("batpak: receipt signature does not verify")
	// ErrMalformed: a receipt, key or signature that is not of the form
	// this package reads.
	ErrMalformed = errors.New("batpak: malformed receipt")
)

// domain starts every signed message, so a receipt signature is never
// valid as anything else the key may sign.
const domain = "batpak receipt 1\x00"

// Claim is what a receipt's signature covers.
type Claim struct {
	Store    [16]byte // the store's id
	ID       [16]byte // the event's id
	Global   uint64   // its global sequence
	Entity   string   // its entity
	Sequence uint64   // its per-entity sequence
	Hash     [32]byte // its own chain hash
}

// AppendMessage appends the canonical bytes of c (see the package
// documentation) to dst.
func (c *Claim) AppendMessage(dst []byte) []byte {
	dst = append(dst, domain...)
	dst = append(dst, c.Store[:]...)
	dst = append(dst, c.ID[:]...)
	dst = binary.LittleEndian.AppendUint64(dst, c.Global)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(c.Entity)))
	dst = append(dst, c.Entity...)
	dst = binary.LittleEndian.AppendUint64(dst, c.Sequence)
	return append(dst, c.Hash[:]...)
}

// Message returns the canonical bytes of c.
func (c *Claim) Message() []byte {
	return c.AppendMessage(make([]byte, 0, len(domain)+16+16+8+4+len(c.Entity)+8+32))
}

// Sign signs c with key.
func Sign(key ed25519.PrivateKey, c *Claim) []byte {
	return ed25519.Sign(key, c.Message())
}

// Verify checks sig over c with the public key pub: nil if it verifies,
// ErrBadSignature if not, ErrMalformed for a key or signature of the
// wrong size.
func Verify(pub ed25519.PublicKey, c *Claim, sig []byte) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: public key of %d bytes, want %d", ErrMalformed, len(pub), ed25519.PublicKeySize)
	}
	if len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: signature of %d bytes, want %d", ErrMalformed, len(sig), ed25519.SignatureSize)
	}
	if len(c.Entity) > math.MaxUint32 {
		return fmt.Errorf("%w: entity too long", ErrMalformed)
	}
	if !ed25519.Verify(pub, c.Message(), sig) {
		return ErrBadSignature
	}
	return nil
}

// Signed is a claim with its signature: a signed receipt as it travels,
// in the JSON form of the package documentation.
type Signed struct {
	Claim
	Signature []byte
}

// Verify checks s's signature with the public key pub (see Verify).
func (s *Signed) Verify(pub ed25519.PublicKey) error {
	if len(s.Signature) == 0 {
		return fmt.Errorf("%w: the receipt is not signed", ErrMalformed)
	}
	return Verify(pub, &s.Claim, s.Signature)
}
