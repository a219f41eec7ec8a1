package natsembed_test

import (
	"context"
	"crypto/ed25519"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/jetstream"
)

// TestSignedReceiptsOverJetStream: with Options.ReceiptSigner every
// receipt — single, keyed and its replay, reaction, batch, pipelined
// (Submit, SubmitBatch) — carries the
// stream's store id and a signature that verifies with the public key
// alone and covers the hash the stream stored; a second client of the
// stream signs over the same id; any changed field fails; a Store without
// a signer hands out unsigned receipts.
func TestSignedReceiptsOverJetStream(t *testing.T) {
	ctx := context.Background()
	pub, key, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	srv := startServer(t)
	opts := jetstream.Options{Stream: "SIGNED", Subject: "sig", ReceiptSigner: key}
	s := openStore(t, connect(t, srv), opts)
	require.False(t, s.ID().IsZero(), "a signing store has an id")

	alice := event.MustCoordinate("user:alice", "eu")
	var rs []batpak.Receipt
	r, err := s.Append(ctx, alice, 0x1001, []byte("one"))
	require.NoError(t, err)
	rs = append(rs, r)
	r, err = s.AppendWithOptions(ctx, alice, 0x1001, []byte("two"), batpak.AppendOptions{IdempotencyKey: "k2"})
	require.NoError(t, err)
	rs = append(rs, r)
	again, err := s.AppendWithOptions(ctx, alice, 0x1001, []byte("two"), batpak.AppendOptions{IdempotencyKey: "k2"})
	require.NoError(t, err)
	require.True(t, again.Replayed)
	assert.Equal(t, r.Proof, again.Proof, "a replay is signed over the same event")
	rs = append(rs, again)
	r, err = s.AppendReaction(ctx, event.MustCoordinate("user:bob", "eu"), 0x1001, []byte("three"), r.ID, r.ID)
	require.NoError(t, err)
	rs = append(rs, r)
	batch, err := s.AppendBatch(ctx, []batpak.BatchItem{
		{Coord: alice, Kind: 0x1001, Payload: []byte("four")},
		{Coord: event.MustCoordinate("user:carol", "us"), Kind: 0x1001, Payload: []byte("five")},
	})
	require.NoError(t, err)
	rs = append(rs, batch...)
	tk, err := s.Submit(ctx, alice, 0x1001, []byte("submitted"), batpak.AppendOptions{})
	require.NoError(t, err)
	r, err = tk.Wait(ctx)
	require.NoError(t, err)
	rs = append(rs, r)
	tk, err = s.SubmitBatch(ctx, []batpak.BatchItem{{Coord: alice, Kind: 0x1001, Payload: []byte("submitted in a batch")}}, batpak.Durable)
	require.NoError(t, err)
	submitted, err := tk.WaitAll(ctx)
	require.NoError(t, err)
	rs = append(rs, submitted...)

	other := openStore(t, connect(t, srv), opts)
	assert.Equal(t, s.ID(), other.ID(), "every client signs over the stream's id")
	r, err = other.Append(ctx, alice, 0x1001, []byte("six"))
	require.NoError(t, err)
	rs = append(rs, r)

	for _, r := range rs {
		require.True(t, r.IsSigned(), "global %d", r.Global)
		assert.Equal(t, s.ID(), r.Proof.Store)
		require.NoError(t, batpak.VerifyReceipt(pub, r), "global %d", r.Global)
		ev, err := s.Get(ctx, r.ID)
		require.NoError(t, err)
		assert.Equal(t, ev.Hash.Self, r.Hash, "the signed hash is the stored event's")
	}

	tampered := rs[0]
	tampered.Global++
	assert.ErrorIs(t, batpak.VerifyReceipt(pub, tampered), batpak.ErrBadSignature)
	tampered = rs[0]
	proof := *tampered.Proof // the copy's own proof: copies share one
	proof.Store[15] ^= 1
	tampered.Proof = &proof
	assert.ErrorIs(t, batpak.VerifyReceipt(pub, tampered), batpak.ErrBadSignature)

	plain := openStore(t, connect(t, srv), jetstream.Options{Stream: "SIGNED", Subject: "sig"})
	assert.True(t, plain.ID().IsZero())
	r, err = plain.Append(ctx, alice, 0x1001, []byte("seven"))
	require.NoError(t, err)
	assert.False(t, r.IsSigned())
	assert.ErrorIs(t, batpak.VerifyReceipt(pub, r), batpak.ErrMalformedReceipt)

	_, err = jetstream.Open(ctx, connect(t, srv), jetstream.Options{Stream: "SIGNED", Subject: "sig", ReceiptSigner: key[:10]})
	assert.ErrorIs(t, err, batpak.ErrInvalidOption)
}
