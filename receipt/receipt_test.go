package receipt_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/receipt"
)

// The test vector of docs/FORMAT.md, "Signed receipts": a key from a fixed
// seed, a fixed claim, and the message and signature any implementation
// must reproduce (Ed25519 signatures are deterministic).
var (
	vectorKey   = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)) // 32 zero bytes
	vectorClaim = receipt.Claim{
		Store:    [16]byte{0x01, 0x90, 0xb0, 0xa4, 0x00, 0x00, 0x70, 0x00, 0x80, 0x00, 0, 0, 0, 0, 0, 0x01},
		ID:       [16]byte{0x01, 0x90, 0xb0, 0xa4, 0x00, 0x01, 0x70, 0x00, 0x80, 0x00, 0, 0, 0, 0, 0, 0x02},
		Global:   42,
		Entity:   "user:alice",
		Sequence: 3,
		Hash:     [32]byte{0xAA, 0xBB, 31: 0xCC},
	}
)

const (
	vectorMessage = "62617470616b2072656365697074203100" + // "batpak receipt 1" 0x00
		"0190b0a4000070008000000000000001" + // store
		"0190b0a4000170008000000000000002" + // id
		"2a00000000000000" + // global 42
		"0a000000" + "757365723a616c696365" + // entity "user:alice"
		"0300000000000000" + // sequence 3
		"aabb0000000000000000000000000000000000000000000000000000000000cc" // hash
)

func TestMessageIsTheDocumentedBytes(t *testing.T) {
	assert.Equal(t, vectorMessage, hex.EncodeToString(vectorClaim.Message()))
	sig := receipt.Sign(vectorKey, &vectorClaim)
	require.NoError(t, receipt.Verify(vectorKey.Public().(ed25519.PublicKey), &vectorClaim, sig))
	t.Logf("public key %x\nsignature %x", vectorKey.Public(), sig)
	assert.Equal(t, vectorSignature, hex.EncodeToString(sig))
}

func TestEveryTamperedFieldFails(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	c := vectorClaim
	sig := receipt.Sign(priv, &c)
	require.NoError(t, receipt.Verify(pub, &c, sig))
	for name, tamper := range map[string]func(c *receipt.Claim){
		"store":    func(c *receipt.Claim) { c.Store[15] ^= 1 },
		"id":       func(c *receipt.Claim) { c.ID[0] ^= 0x80 },
		"global":   func(c *receipt.Claim) { c.Global++ },
		"entity":   func(c *receipt.Claim) { c.Entity = "user:alicf" },
		"entity+":  func(c *receipt.Claim) { c.Entity += "\x00" },
		"sequence": func(c *receipt.Claim) { c.Sequence-- },
		"hash":     func(c *receipt.Claim) { c.Hash[31] ^= 1 },
	} {
		t.Run(name, func(t *testing.T) {
			d := c
			tamper(&d)
			assert.ErrorIs(t, receipt.Verify(pub, &d, sig), receipt.ErrBadSignature)
		})
	}
	t.Run("signature", func(t *testing.T) {
		bad := append([]byte(nil), sig...)
		bad[10] ^= 1
		assert.ErrorIs(t, receipt.Verify(pub, &c, bad), receipt.ErrBadSignature)
	})
	t.Run("key", func(t *testing.T) {
		other, _, err := ed25519.GenerateKey(nil)
		require.NoError(t, err)
		assert.ErrorIs(t, receipt.Verify(other, &c, sig), receipt.ErrBadSignature)
	})
	t.Run("sizes", func(t *testing.T) {
		assert.ErrorIs(t, receipt.Verify(pub[:31], &c, sig), receipt.ErrMalformed)
		assert.ErrorIs(t, receipt.Verify(pub, &c, sig[:63]), receipt.ErrMalformed)
		assert.ErrorIs(t, (&receipt.Signed{Claim: c}).Verify(pub), receipt.ErrMalformed)
	})
}

func TestJSONRoundTrip(t *testing.T) {
	s := receipt.Signed{Claim: vectorClaim, Signature: receipt.Sign(vectorKey, &vectorClaim)}
	b, err := json.Marshal(s)
	require.NoError(t, err)
	assert.JSONEq(t, `{"store":"0190b0a4-0000-7000-8000-000000000001","id":"0190b0a4-0001-7000-8000-000000000002",
		"global":42,"entity":"user:alice","sequence":3,
		"hash":"aabb0000000000000000000000000000000000000000000000000000000000cc",
		"signature":"`+vectorSignature+`"}`, string(b))
	var back receipt.Signed
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, s, back)
	require.NoError(t, back.Verify(vectorKey.Public().(ed25519.PublicKey)))
}

func TestJSONRefusesWhatIsNotAReceipt(t *testing.T) {
	good := `"store":"0190b0a4-0000-7000-8000-000000000001","id":"0190b0a4-0001-7000-8000-000000000002",` +
		`"hash":"aabb0000000000000000000000000000000000000000000000000000000000cc","signature":"` + vectorSignature + `"`
	for name, doc := range map[string]string{
		"missing global":  `{` + good + `,"entity":"e","sequence":1}`,
		"missing entity":  `{` + good + `,"global":1,"sequence":1}`,
		"unknown field":   `{` + good + `,"global":1,"entity":"e","sequence":1,"kind":"0x1001"}`,
		"negative":        `{` + good + `,"global":-1,"entity":"e","sequence":1}`,
		"two values":      `{` + good + `,"global":1,"entity":"e","sequence":1} {}`,
		"bad uuid":        `{"store":"0190b0a4000070008000000000000001","id":"0190b0a4-0001-7000-8000-000000000002","hash":"aabb0000000000000000000000000000000000000000000000000000000000cc","signature":"` + vectorSignature + `","global":1,"entity":"e","sequence":1}`,
		"short hash":      `{"store":"0190b0a4-0000-7000-8000-000000000001","id":"0190b0a4-0001-7000-8000-000000000002","hash":"aabb","signature":"` + vectorSignature + `","global":1,"entity":"e","sequence":1}`,
		"short signature": `{"store":"0190b0a4-0000-7000-8000-000000000001","id":"0190b0a4-0001-7000-8000-000000000002","hash":"aabb0000000000000000000000000000000000000000000000000000000000cc","signature":"00","global":1,"entity":"e","sequence":1}`,
	} {
		var s receipt.Signed
		assert.ErrorIs(t, s.UnmarshalJSON([]byte(doc)), receipt.ErrMalformed, name)
	}
}

func TestParsePublicKey(t *testing.T) {
	pub := vectorKey.Public().(ed25519.PublicKey)
	for _, text := range []string{hex.EncodeToString(pub), " " + hex.EncodeToString(pub) + "\n", "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik="} {
		got, err := receipt.ParsePublicKey(text)
		require.NoError(t, err, text)
		assert.Equal(t, pub, got)
	}
	_, err := receipt.ParsePublicKey("abcd")
	assert.ErrorIs(t, err, receipt.ErrMalformed)
}
