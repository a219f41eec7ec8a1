package batpak

import (
	"context"
	"errors"
	"fmt"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/keyring"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/writer"
)

// Errors of encryption.
var (
	// ErrShredded is a read event's PayloadErr (and Decode's error) once
	// its entity was shredded (Store.Shred): the key is gone, the payload
	// with it. The event's header, links and hash stay.
	ErrShredded = event.ErrShredded
	// ErrSealed is a read event's PayloadErr when the payload is encrypted
	// and the store was opened without its key (OpenReadOnly without
	// WithEncryption, as the batpak command does).
	ErrSealed = event.ErrSealed
	// ErrWrongKey is returned by Open and OpenReadOnly when the key of
	// WithEncryption does not open the store's keyset; nothing is changed.
	ErrWrongKey = keyring.ErrWrongKey
	// ErrKeyRequired is returned by Open for an encrypted store opened
	// without WithEncryption: appending in the clear to it would be a
	// mistake. OpenReadOnly opens it, its payloads reading as ErrSealed.
	ErrKeyRequired = reader.ErrKeyRequired
	// ErrNotEncrypted is returned by Shred on a store opened without
	// WithEncryption: there is no key to destroy.
	ErrNotEncrypted = errors.New("batpak: the store does not encrypt payloads (WithEncryption)")
)

// WithEncryption encrypts every payload appended from now on with its
// entity's own key, and opens them on every read; keys decides who can read
// the keyset, in which each entity's key is kept wrapped — usually
// keyring.MasterKey(key) with a 32-byte key of your own (from a secret
// manager; never stored with the store), or a key management service
// implementing keyring.Wrapper. A store opened once with it must always
// be: Open without it is ErrKeyRequired, Open with another key ErrWrongKey
// (and changes nothing).
//
// Payloads are sealed with XChaCha20-Poly1305 on the appending goroutine;
// headers (ids, coordinates, kinds, times, links, hashes) stay in the
// clear, so queries, cursors and Verify work as before, and so does
// everything else without the key. Shred destroys an entity's keys: its
// payloads then read as ErrShredded. docs/SECURITY.md says what this
// protects; docs/FORMAT.md the bytes.
func WithEncryption(keys keyring.Wrapper) Option {
	return func(c *config) { c.keys, c.keysSet = keys, true }
}

// seal seals it's payload with its entity's key, keeping the plaintext for
// an idempotent retry's comparison.
func (s *Store) seal(it *writer.Item) error {
	sealed, err := s.keys.Seal(it.Coord, it.Kind, it.Opts.Flags, it.Codec, it.Payload)
	if err != nil {
		return fmt.Errorf("batpak: sealing the payload: %w", err)
	}
	it.Plain, it.Payload, it.Sealed = it.Payload, sealed, true
	return nil
}

// Shred destroys the keys of entity's payloads, durably: from its return,
// every payload the entity's events carry reads as ErrShredded — in every
// read path, for every reader, after any crash — while their headers,
// causal links and chain hashes stay, so queries, cursors, projections
// (which see the error and can skip the event) and Verify go on working.
// The keyset file is rewritten without the keys (a temporary file,
// fsynced, renamed over it, the directory fsynced), so no copy of them is
// left in the store's directory; a crash leaves them all there or all
// gone, and never touches another entity's. The next Compact drops the
// shredded ciphertext itself (CompactReport.Shredded).
//
// Shred finds the keys in the entity's events: their current key and any
// older one (from before an earlier Shred or reopen). An append to the
// entity racing with Shred may land either side; one sealed before it
// returns reads as shredded. Later appends get a fresh key. Shredding an
// entity without encrypted events does nothing and is not an error.
//
// What Shred cannot reach: copies of the store made before (snapshots,
// backups: shred them too, or keep their keysets apart), and bytes the file
// system or device may keep of the old keyset file after its removal. The
// entity's name and everything else in the headers stay in the clear.
func (s *Store) Shred(ctx context.Context, entity string) error {
	if err := s.readable(ctx); err != nil {
		return err
	}
	if s.readOnly {
		return ErrReadOnly
	}
	if s.keys == nil {
		return ErrNotEncrypted
	}
	if err := event.ValidatePart("entity", entity); err != nil {
		return err
	}
	// Serialised with Snapshot (which copies the keyset) and Compact.
	s.maint.Lock()
	defer s.maint.Unlock()
	keys, err := reader.EntityKeys(ctx, s.segs, s.idx, entity)
	if err != nil {
		return fmt.Errorf("batpak: shred %q: %w", entity, err)
	}
	_, err = s.keys.Shred(entity, keys)
	// The cursors' shared cache may hold the entity's opened payloads.
	s.hub.Invalidate()
	if err != nil {
		return fmt.Errorf("batpak: shred %q: %w", entity, err)
	}
	return nil
}
