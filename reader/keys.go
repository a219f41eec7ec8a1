package reader

import (
	"context"
	"errors"
	"fmt"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/keyring"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// ErrKeyRequired is returned by CheckKeys for an encrypted store opened
// for writing without its key: appending in the clear to it would be a
// mistake. Read-only, it opens, its payloads reading as event.ErrSealed.
var ErrKeyRequired = errors.New("batpak: the store is encrypted: open it with its key (WithEncryption)")

// CheckKeys refuses, before a store takes its lock or changes a file, a
// key that does not open dir's keyset (keyring.ErrWrongKey) and an
// encrypted store opened for writing without one (ErrKeyRequired).
func CheckKeys(fsys vfs.FS, dir string, w keyring.Wrapper, readOnly bool) error {
	if w != nil {
		return keyring.Check(fsys, dir, w)
	}
	if readOnly {
		return nil
	}
	encrypted, err := keyring.Exists(fsys, dir)
	if err != nil {
		return err
	}
	if encrypted {
		return fmt.Errorf("%w: %s", ErrKeyRequired, dir)
	}
	return nil
}

// OpenKeys opens the store's keyring with w and has segs open sealed
// payloads with it; it returns nil without a key on a writable store (one
// that does not encrypt). Read-only without a key, the keyset is still
// read (its key numbers are in the clear), so that a shredded payload
// reads as event.ErrShredded and only the others as event.ErrSealed. An
// entity appended to after a reopen reuses the key of its newest event.
func OpenKeys(fsys vfs.FS, dir string, w keyring.Wrapper, segs *Segments, idx *index.Index, readOnly bool) (*keyring.Keyring, error) {
	if w == nil && !readOnly {
		return nil, nil
	}
	kr, err := keyring.Open(fsys, dir, w, keyring.Options{
		ReadOnly: readOnly, Create: !readOnly,
		Latest: func(entity string) (uint64, bool, error) { return latestKey(segs, idx, entity) },
	})
	if err != nil || kr == nil {
		return nil, err
	}
	segs.SetOpener(kr)
	return kr, nil
}

// EntityKeys returns the numbers of the keys that sealed any of entity's
// events, each once: its current key and older ones (from before a
// reopen or an earlier shred). Events compaction dropped meanwhile are
// skipped.
func EntityKeys(ctx context.Context, segs *Segments, idx *index.Index, entity string) ([]uint64, error) {
	var keys []uint64
	seen := map[uint64]bool{}
	for e := range idx.Query(event.Region{Entity: entity}, 0) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, ok, err := keyOf(segs, e)
		if errors.Is(err, ErrEventDropped) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("batpak: reading the events of %q: %w", entity, err)
		}
		if ok && !seen[n] {
			seen[n] = true
			keys = append(keys, n)
		}
	}
	return keys, nil
}

// latestKey returns the number of the key that sealed entity's newest
// event, if it is sealed.
func latestKey(segs *Segments, idx *index.Index, entity string) (uint64, bool, error) {
	e, ok := idx.Latest(entity)
	if !ok {
		return 0, false, nil
	}
	n, ok, err := keyOf(segs, e)
	if errors.Is(err, ErrEventDropped) {
		return 0, false, nil // compacted away meanwhile: any key will do
	}
	return n, ok, err
}

// keyOf reads the frame of e and returns the number of the key its sealed
// payload names (ok false: not sealed, or stripped).
func keyOf(segs *Segments, e index.Entry) (uint64, bool, error) {
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
