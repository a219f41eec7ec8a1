package batpak

import (
	"context"
	"fmt"

	"github.com/batpak-go/batpak/keyring"
	"github.com/batpak-go/batpak/snapshot"
)

// Errors of Snapshot and VerifySnapshot.
var (
	// ErrSnapshotInsideStore is returned by Snapshot for a destination that
	// is the store's directory or lies inside it.
	ErrSnapshotInsideStore = snapshot.ErrInsideStore
	// ErrSnapshotNotEmpty is returned by Snapshot for a destination that
	// exists and is not an empty directory.
	ErrSnapshotNotEmpty = snapshot.ErrNotEmpty
	// ErrSnapshotMismatch is returned by VerifySnapshot when the snapshot's
	// files do not match its manifest (or it has no readable manifest).
	ErrSnapshotMismatch = snapshot.ErrMismatch
)

// Snapshot writes a consistent copy of the store into dest while it stays
// open and under load, and returns the copy's manifest. dest must not be
// or lie inside the store's directory (ErrSnapshotInsideStore) and must be
// missing or an empty directory (ErrSnapshotNotEmpty).
//
// The copy holds exactly the events up to the visible frontier taken when
// Snapshot starts (Manifest.LastGlobal), made durable first by a Sync: so
// every append acknowledged before the call. Every sealed segment is copied
// whole, the active one up to the frontier's frame (with its batch's
// COMMIT); only segments, and an encrypted store's keyset (the copy opens
// with the same key; a later Shred of this store does not reach the copy):
// Open on the copy rebuilds its index by scanning, durable cursors start
// afresh there, and it gets a store id of its own when first opened for
// writing. Every file and the directory are
// synced, then MANIFEST.json (size and SHA-256 of each file) is written
// atomically (docs/FORMAT.md, "Snapshot manifest").
//
// Check the copy with VerifySnapshot before opening it for writing, which
// makes it a store of its own, or open it with OpenReadOnly. On failure
// the files created are removed. On a read-only store it copies what that
// store has indexed, without syncing. Files go through WithFS's system.
func (s *Store) Snapshot(ctx context.Context, dest string) (snapshot.Manifest, error) {
	if err := s.readable(ctx); err != nil {
		return snapshot.Manifest{}, err
	}
	if dest == "" {
		return snapshot.Manifest{}, fmt.Errorf("%w: empty snapshot destination", ErrInvalidOption)
	}
	if err := snapshot.CheckDest(s.cfg.fs, s.dir, dest); err != nil {
		return snapshot.Manifest{}, err
	}
	s.maint.Lock() // the segment files must not change under the copy
	defer s.maint.Unlock()
	src := snapshot.Source{FS: s.cfg.fs, Dir: s.dir, Index: s.idx, Segments: s.segs, Clock: s.cfg.w.Clock}
	if !s.readOnly {
		src.Sync = s.Sync
	}
	if s.keys != nil {
		src.Extra = func() (map[string][]byte, error) {
			b, err := s.keys.Bytes()
			return map[string][]byte{keyring.Name: b}, err
		}
	}
	return snapshot.Take(ctx, src, dest)
}

// VerifySnapshot checks the snapshot in dir against its manifest: every
// file listed present with its size and SHA-256, no segment file unlisted;
// anything else wraps ErrSnapshotMismatch. It changes nothing; VerifyDir
// checks the segments' contents. Of the options, only WithFS applies.
func VerifySnapshot(ctx context.Context, dir string, opts ...Option) (snapshot.Manifest, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return snapshot.Manifest{}, err
	}
	return snapshot.Verify(ctx, cfg.fs, dir)
}
