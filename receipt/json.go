package receipt

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// signedJSON is the JSON form of a signed receipt (package documentation).
type signedJSON struct {
	Store     string  `json:"store"`
	ID        string  `json:"id"`
	Global    *uint64 `json:"global"`
	Entity    *string `json:"entity"`
	Sequence  *uint64 `json:"sequence"`
	Hash      string  `json:"hash"`
	Signature string  `json:"signature"`
}

// MarshalJSON writes s in the package's JSON form.
func (s Signed) MarshalJSON() ([]byte, error) {
	return json.Marshal(signedJSON{
		Store: uuidText(s.Store), ID: uuidText(s.ID), Global: &s.Global, Entity: &s.Entity,
		Sequence: &s.Sequence, Hash: hex.EncodeToString(s.Hash[:]), Signature: hex.EncodeToString(s.Signature),
	})
}

// UnmarshalJSON reads the package's JSON form. Every field is required;
// unknown fields are an error too, so that nothing a reader might take as
// signed passes unsigned.
func (s *Signed) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	var j signedJSON
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: more than one JSON value", ErrMalformed)
	}
	if j.Global == nil || j.Entity == nil || j.Sequence == nil {
		return fmt.Errorf("%w: global, entity and sequence are required", ErrMalformed)
	}
	var out Signed
	var err error
	if out.Store, err = parseUUID("store", j.Store); err != nil {
		return err
	}
	if out.ID, err = parseUUID("id", j.ID); err != nil {
		return err
	}
	if err := parseHex("hash", j.Hash, out.Hash[:]); err != nil {
		return err
	}
	out.Signature = make([]byte, ed25519.SignatureSize)
	if err := parseHex("signature", j.Signature, out.Signature); err != nil {
		return err
	}
	out.Global, out.Entity, out.Sequence = *j.Global, *j.Entity, *j.Sequence
	*s = out
	return nil
}

// ParsePublicKey reads an Ed25519 public key written as 64 hex digits or
// as standard base64 of its 32 bytes (surrounding space ignored).
func ParsePublicKey(text string) (ed25519.PublicKey, error) {
	text = strings.TrimSpace(text)
	if b, err := hex.DecodeString(text); err == nil && len(b) == ed25519.PublicKeySize {
		return ed25519.PublicKey(b), nil
	}
	if b, err := base64.StdEncoding.DecodeString(text); err == nil && len(b) == ed25519.PublicKeySize {
		return ed25519.PublicKey(b), nil
	}
	return nil, fmt.Errorf("%w: a public key is 32 bytes as 64 hex digits or base64", ErrMalformed)
}

func parseHex(field, s string, dst []byte) error {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(dst) {
		return fmt.Errorf("%w: %s must be %d hex digits", ErrMalformed, field, 2*len(dst))
	}
	copy(dst, b)
	return nil
}

// uuidText is the canonical 8-4-4-4-12 form of a UUID.
func uuidText(u [16]byte) string {
	h := hex.EncodeToString(u[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// parseUUID reads the canonical form (lowercase or uppercase hex).
func parseUUID(field, s string) ([16]byte, error) {
	var u [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, fmt.Errorf("%w: %s must be a UUID in its 8-4-4-4-12 form", ErrMalformed, field)
	}
	h := s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return u, fmt.Errorf("%w: %s must be a UUID in its 8-4-4-4-12 form", ErrMalformed, field)
	}
	return u, nil
}
