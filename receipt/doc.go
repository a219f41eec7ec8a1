// Package receipt signs append receipts and verifies them offline, with
// nothing but the store's Ed25519 public key: no store, no network.
//
// A store opened with batpak.WithReceiptSigner signs every receipt it hands
// out (single appends, batches, gatekeeper commits) over a Claim: the
// store's id, the event's id, its global sequence, entity, per-entity
// sequence and chain hash. The hash covers every other byte of the event
// (its kind, scope, timestamps, links and payload; docs/FORMAT.md, "Hash
// chain"), so a valid signature proves the store acknowledged exactly that
// event at that place in its log.
//
// The signed message (Claim.Message) is, with integers little-endian:
//
//	"batpak receipt 1" 0x00   17 bytes, the domain of these signatures
//	store                     16 bytes, the store's id (a UUID, big-endian)
//	id                        16 bytes, the event's id (a UUID, big-endian)
//	global                    u64
//	entity                    u32 length, then its UTF-8 bytes
//	sequence                  u64
//	hash                      32 bytes, Blake3-256
//
// and the signature is Ed25519 (RFC 8032) over it, so any language's
// Ed25519 library verifies it. The JSON form (Signed) carries the same
// fields, ids in their text form, hash and signature in lowercase hex:
//
//	{"store":"0190b0a4-…","id":"0190b0a4-…","global":42,"entity":"user:alice",
//	 "sequence":3,"hash":"9f2c…","signature":"5be1…"}
//
// The package imports only the standard library.
package receipt
