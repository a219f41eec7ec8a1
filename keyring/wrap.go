package keyring

import (
	"crypto/cipher"
	"crypto/rand"
	"errors"

	"golang.org/x/crypto/chacha20poly1305"
)

// Wrapper wraps and unwraps the store's data keys: the keyset file holds
// each data key only as Wrap made it, so whoever lacks the wrapper's secret
// learns nothing from the file. MasterKey is the built-in one; a key
// management service plugs in by implementing it (a call per key: once
// when the key is made, once when it is first used after Open).
//
// aad is associated data (the key's number, or the keyset's check value):
// Unwrap must fail unless given the aad Wrap was given. An error of
// Unwrap means "not this wrapper's": Open reports a wrapper that cannot
// unwrap the keyset's check value as ErrWrongKey and changes nothing.
type Wrapper interface {
	Wrap(key, aad []byte) ([]byte, error)
	Unwrap(wrapped, aad []byte) ([]byte, error)
}

// MasterKey returns the Wrapper of a 32-byte master key: XChaCha20-Poly1305
// with a random nonce, the wrapped form being nonce (24 bytes), then the
// encrypted key and its tag. Generate the master key with crypto/rand and
// keep it apart from the store (a secret manager, the environment): with
// the key next to the files, encryption protects nothing.
func MasterKey(key [32]byte) Wrapper {
	a, err := chacha20poly1305.NewX(key[:])
	if err != nil { // only for a key of the wrong size, which [32]byte is not
		panic(err)
	}
	return masterKey{a}
}

type masterKey struct{ aead cipher.AEAD }

// errUnwrap is what a master key answers for a wrapped key it did not wrap.
var errUnwrap = errors.New("keyring: wrapped key does not open with this master key")

func (m masterKey) Wrap(key, aad []byte) ([]byte, error) {
	out := make([]byte, chacha20poly1305.NonceSizeX, chacha20poly1305.NonceSizeX+len(key)+m.aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, err
	}
	return m.aead.Seal(out, out, key, aad), nil
}

func (m masterKey) Unwrap(wrapped, aad []byte) ([]byte, error) {
	if len(wrapped) < chacha20poly1305.NonceSizeX+m.aead.Overhead() {
		return nil, errUnwrap
	}
	nonce, box := wrapped[:chacha20poly1305.NonceSizeX], wrapped[chacha20poly1305.NonceSizeX:]
	key, err := m.aead.Open(nil, nonce, box, aad)
	if err != nil {
		return nil, errUnwrap
	}
	return key, nil
}
