package batpak

import (
	"context"
	"errors"
	"fmt"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/keyring"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/segment"
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
	ErrKeyRequired = errors.New("batpak: the store is encrypted: open it with its key (WithEncryption)")
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

// checkKeys refuses, before Open takes the lock or changes a file, a key
// that does not open dir's keyset (ErrWrongKey) and an encrypted store
// opened for writing without a key (ErrKeyRequired).
func checkKeys(cfg *config, dir string, readOnly bool) error {
	if cfg.keys != nil {
		return keyring.Check(cfg.fs, dir, cfg.keys)
	}
	if readOnly {
		return nil
	}
	encrypted, err := keyring.Exists(cfg.fs, dir)
	if err != nil {
		return err
	}
	if encrypted {
		return fmt.Errorf("%w: %s", ErrKeyRequired, dir)
	}
	return nil
}

// openKeys opens the store's keyring (nil without WithEncryption) and
// makes the segments open sealed payloads with it. latest reads an
// entity's newest event, for reusing its key after a reopen.
//
// Read-only without a key, the keyset is still read (its key numbers are
// in the clear), so that a shredded payload reads as ErrShredded and only
// the others as ErrSealed.
func openKeys(cfg *config, dir string, segs *reader.Segments, idx *index.Index, readOnly bool) (*keyring.Keyring, error) {
	if cfg.keys == nil && !readOnly {
		return nil, nil
	}
	var w keyring.Wrapper
	if cfg.keys != nil {
		w = cfg.keys
	}
	kr, err := keyring.Open(cfg.fs, dir, w, keyring.Options{
		ReadOnly: readOnly, Create: !readOnly,
		Latest: func(entity string) (uint64, bool, error) { return latestKey(segs, idx, entity) },
	})
	if err != nil {
		return nil, err
	}
	if kr != nil {
		segs.SetOpener(kr)
	}
	return kr, nil
}

// latestKey returns the number of the key that sealed entity's newest
// event, if it is sealed.
func latestKey(segs *reader.Segments, idx *index.Index, entity string) (uint64, bool, error) {
	e, ok := idx.Latest(entity)
	if !ok {
		return 0, false, nil
	}
	n, ok, err := keyOf(segs, e)
	if errors.Is(err, reader.ErrEventDropped) {
		return 0, false, nil // compacted away meanwhile: any key will do
	}
	return n, ok, err
}

// keyOf reads the frame of e and returns the number of the key its sealed
// payload names (ok false: not sealed, or stripped).
func keyOf(segs *reader.Segments, e index.Entry) (uint64, bool, error) {
	body, err := segs.ReadFrame(e)
	if err != nil {
		return 0, false, err
	}
	var v segment.EventView
	if err := segment.ParseEventFields(body, &v); err != nil {
		return 0, false, err
	}
	if !v.Sealed || segment.IsStripped(&v) {
		return 0, false, nil
	}
	s, err := segment.ParseSealed(v.Payload)
	if err != nil {
		return 0, false, err
	}
	return s.Key, true, nil
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
	var keys []uint64
	seen := map[uint64]bool{}
	for e := range s.idx.Query(event.Region{Entity: entity}, 0) {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, ok, err := keyOf(s.segs, e)
		if errors.Is(err, reader.ErrEventDropped) {
			continue
		}
		if err != nil {
			return fmt.Errorf("batpak: shred %q: reading its events: %w", entity, err)
		}
		if ok && !seen[n] {
			seen[n] = true
			keys = append(keys, n)
		}
	}
	_, err := s.keys.Shred(entity, keys)
	// The cursors' shared cache may hold the entity's opened payloads.
	s.hub.Invalidate()
	if err != nil {
		return fmt.Errorf("batpak: shred %q: %w", entity, err)
	}
	return nil
}

// opener is the keyring as the writer takes it: a nil interface, not a
// nil pointer in one, when the store does not encrypt.
func opener(kr *keyring.Keyring) segment.Opener {
	if kr == nil {
		return nil
	}
	return kr
}

func closeKeys(kr *keyring.Keyring) error {
	if kr == nil {
		return nil
	}
	return kr.Close()
}
