// Package keyring keeps a store's data keys and seals and opens event
// payloads with them (docs/FORMAT.md, "Sealed payloads" and "Keyset";
// docs/SECURITY.md, "Encryption and erasure").
//
// Every entity has its own data key, a random 256-bit XChaCha20-Poly1305
// key. The keyset file holds each key wrapped by the user's Wrapper (a
// master key, MasterKey, or a key management service), so the files alone
// reveal nothing. Keys are made a block at a time, and a block is appended
// and fsynced before any of its keys seals a payload, so no event can
// outlive its key in a crash. Shred destroys an entity's keys by rewriting
// the keyset without them (temporary file, fsync, rename, directory
// fsync): from then on the entity's payloads read as event.ErrShredded,
// while their headers, links and chain hashes stay readable and
// verifiable.
//
// The keyset says nothing of which entity a key belongs to: the sealed
// payload names its key's number and its associated data binds the box to
// the event's entity, scope, kind, flags and codec. A store finds an
// entity's keys for Shred in the entity's events, and its current key
// after a reopen in its newest event (Options.Latest).
//
//	kr, err := keyring.Open(fsys, dir, keyring.MasterKey(master), keyring.Options{Create: true})
//	sealed, err := kr.Seal(coord, kind, flags, codec, payload)
//	plain, err := kr.Open(&view, false)
//	n, err := kr.Shred("user:alice", keysOfAlicesEvents)
package keyring
