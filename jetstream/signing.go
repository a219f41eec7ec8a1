package jetstream

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/receipt"
	"github.com/nats-io/nats.go/jetstream"
)

// storeIDKey is the index bucket's key holding the store's id: the 16
// bytes of a UUIDv7, made by the first client that opens the stream with
// a ReceiptSigner and never changed, so that every client signs receipts
// over the same id.
const storeIDKey = "storeid"

// ID returns the store's id, which signed receipts carry (Receipt.Proof):
// kept in the index bucket, the same for every client of the stream. Zero
// on a Store opened without Options.ReceiptSigner.
func (s *Store) ID() batpak.ID { return s.id }

// loadID reads the store's id from the index bucket, making it if no
// client has yet. Two clients making it at once agree: the bucket keeps
// the first (Create fails for the second, which reads it).
func (s *Store) loadID(ctx context.Context) error {
	return s.retry(ctx, "store id", func(ctx context.Context) error {
		kv, err := s.indexBucket(ctx)
		if err != nil {
			return err
		}
		for range 2 {
			e, err := kv.Get(ctx, storeIDKey)
			switch {
			case err == nil:
				if len(e.Value()) != len(s.id) {
					return fmt.Errorf("%w: the index bucket's %q entry holds %d bytes, not an id", event.ErrCorrupt, storeIDKey, len(e.Value()))
				}
				s.id = batpak.ID(e.Value())
				return nil
			case !errors.Is(err, jetstream.ErrKeyNotFound):
				return err
			}
			id := event.NewID()
			_, err = kv.Create(ctx, storeIDKey, id[:])
			switch {
			case err == nil:
				s.id = id
				return nil
			case !errors.Is(err, jetstream.ErrKeyExists):
				return err
			}
			// Another client (or a lost answer to this one's attempt)
			// made it first: read it.
		}
		return fmt.Errorf("jetstream: the index bucket's %q entry comes and goes", storeIDKey)
	})
}

// sign sets the receipt's store id and signature (Options.ReceiptSigner),
// as the embedded store's WithReceiptSigner does: over the store id, the
// event's id, global sequence, entity, sequence and chain hash.
func (s *Store) sign(r *batpak.Receipt) {
	if s.opts.ReceiptSigner == nil {
		return
	}
	p := &event.Proof{Store: s.id}
	r.Proof = p
	c := r.Claim()
	copy(p.Signature[:], receipt.Sign(s.opts.ReceiptSigner, &c))
}

func checkSigner(key ed25519.PrivateKey) error {
	if key != nil && len(key) != ed25519.PrivateKeySize {
		return fmt.Errorf("%w: a receipt signer is an Ed25519 private key of %d bytes, not %d", batpak.ErrInvalidOption, ed25519.PrivateKeySize, len(key))
	}
	return nil
}
