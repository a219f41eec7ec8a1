package batpak_test

import (
	"crypto/ed25519"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/gatekeeper"
	"github.com/batpak-go/batpak/receipt"
)

func signerKeys(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	return pub, priv
}

var alwaysGates = gatekeeper.MustGateSet(gatekeeper.Gate[struct{}]{
	Name: "open", Description: "lets everything through",
	Check: func(struct{}) *gatekeeper.Denial { return nil },
})

// TestEveryReceiptIsSigned: single, pipelined, batch, reaction, import,
// gatekeeper and replayed receipts all carry the store's id and a
// signature that verifies with the public key alone, and the signature
// matches the one a receipt of the same event gets again.
func TestEveryReceiptIsSigned(t *testing.T) {
	pub, priv := signerKeys(t)
	dir := t.TempDir()
	s := openStore(t, dir, batpak.WithReceiptSigner(priv))
	require.False(t, s.ID().IsZero())
	c := coord(t, "user:alice", "eu")
	var got []batpak.Receipt
	r, err := s.AppendWithOptions(bg, c, kindNote, secretOf(1), batpak.AppendOptions{IdempotencyKey: "once"})
	require.NoError(t, err)
	got = append(got, r)
	replay, err := s.AppendWithOptions(bg, c, kindNote, secretOf(1), batpak.AppendOptions{IdempotencyKey: "once"})
	require.NoError(t, err)
	require.True(t, replay.Replayed)
	assert.Equal(t, r.Proof, replay.Proof, "a replay carries the original's signature")
	got = append(got, replay)
	tk, err := s.Submit(bg, c, kindNote, secretOf(2), batpak.AppendOptions{})
	require.NoError(t, err)
	r, err = tk.Wait(bg)
	require.NoError(t, err)
	got = append(got, r)
	rs, err := s.AppendBatch(bg, []batpak.BatchItem{{Coord: c, Kind: kindNote, Payload: 3}, {Coord: coord(t, "user:bob", "eu"), Kind: kindNote, Payload: 4}})
	require.NoError(t, err)
	got = append(got, rs...)
	rs, err = s.AppendReactionBatch(bg, rs[0].ID, rs[0].ID, []batpak.BatchItem{{Coord: c, Kind: kindNote, Payload: 5}})
	require.NoError(t, err)
	got = append(got, rs...)
	im, err := s.Importer(batpak.Durable)
	require.NoError(t, err)
	r, err = im.Append(bg, batpak.ImportEvent{ID: event.NewID(), Coord: c, Kind: kindNote, Payload: []byte("imported")})
	require.NoError(t, err)
	got = append(got, r)
	gr, err := gatekeeper.Evaluate(alwaysGates, struct{}{}, gatekeeper.Propose(c, kindNote, secretOf(6)))
	require.NoError(t, err)
	committed, err := gatekeeper.Commit(bg, s, gr)
	require.NoError(t, err)
	got = append(got, committed.Receipt)

	for i, r := range got {
		require.True(t, r.IsSigned(), "receipt %d", i)
		assert.Equal(t, s.ID(), r.Proof.Store, "receipt %d", i)
		assert.NoError(t, batpak.VerifyReceipt(pub, r), "receipt %d", i)
		// Offline: the JSON form and the public key are all it takes.
		b, err := json.Marshal(r.Signed())
		require.NoError(t, err)
		var back receipt.Signed
		require.NoError(t, json.Unmarshal(b, &back))
		assert.NoError(t, back.Verify(pub), "receipt %d from JSON", i)
		// The claim is what the store holds for the event.
		ev, err := s.Get(bg, r.ID)
		require.NoError(t, err)
		assert.Equal(t, ev.Hash.Self, r.Hash)
		assert.Equal(t, ev.Global, r.Global)
	}

	// The id stays across reopens.
	id := s.ID()
	closeStore(t, s)
	s = openStore(t, dir, batpak.WithReceiptSigner(priv))
	assert.Equal(t, id, s.ID())
	r = mustAppend(t, s, c, kindNote, 7)
	require.NoError(t, batpak.VerifyReceipt(pub, r))
	assert.Equal(t, id, r.Proof.Store)

	// A snapshot, opened for writing, is a store of its own.
	snap := filepath.Join(t.TempDir(), "snap")
	_, err = s.Snapshot(bg, snap)
	require.NoError(t, err)
	s2 := openStore(t, snap, batpak.WithReceiptSigner(priv))
	assert.NotEqual(t, id, s2.ID())
	assert.False(t, s2.ID().IsZero())
}

// TestTamperedReceiptFails changes each field the signature covers, one at
// a time, and the signature itself: every change fails with
// ErrBadSignature.
func TestTamperedReceiptFails(t *testing.T) {
	pub, priv := signerKeys(t)
	s := openStore(t, t.TempDir(), batpak.WithReceiptSigner(priv))
	mustAppend(t, s, coord(t, "user:alice", "eu"), kindNote, 1)
	good := mustAppend(t, s, coord(t, "user:alice", "eu"), kindNote, 2)
	require.NoError(t, batpak.VerifyReceipt(pub, good))
	for name, tamper := range map[string]func(r *batpak.Receipt){
		"store":     func(r *batpak.Receipt) { r.Proof.Store[3] ^= 1 },
		"id":        func(r *batpak.Receipt) { r.ID[15] ^= 1 },
		"global":    func(r *batpak.Receipt) { r.Global++ },
		"entity":    func(r *batpak.Receipt) { r.Coordinate = coord(t, "user:mallory", "eu") },
		"sequence":  func(r *batpak.Receipt) { r.Sequence = 0 },
		"hash":      func(r *batpak.Receipt) { r.Hash[0] ^= 0x80 },
		"signature": func(r *batpak.Receipt) { r.Proof.Signature[63] ^= 1 },
	} {
		r, p := good, *good.Proof // the copy's own proof: copies share one
		r.Proof = &p
		tamper(&r)
		assert.ErrorIs(t, batpak.VerifyReceipt(pub, r), batpak.ErrBadSignature, name)
	}
	other, _ := signerKeys(t)
	assert.ErrorIs(t, batpak.VerifyReceipt(other, good), batpak.ErrBadSignature, "another store's key")
}

// TestUnsignedStore: without a signer receipts carry neither id nor
// signature, and VerifyReceipt says so; signing needs the hash chain.
func TestUnsignedStore(t *testing.T) {
	pub, priv := signerKeys(t)
	s := openStore(t, t.TempDir())
	r := mustAppend(t, s, coord(t, "user:alice", "eu"), kindNote, 1)
	assert.False(t, r.IsSigned())
	assert.Nil(t, r.Proof)
	assert.ErrorIs(t, batpak.VerifyReceipt(pub, r), batpak.ErrMalformedReceipt)
	_, err := tryOpen(t.TempDir(), batpak.WithReceiptSigner(priv), batpak.WithHashChain(false))
	assert.ErrorIs(t, err, batpak.ErrInvalidOption)
	_, err = tryOpen(t.TempDir(), batpak.WithReceiptSigner(priv[:10]))
	assert.ErrorIs(t, err, batpak.ErrInvalidOption)
}
