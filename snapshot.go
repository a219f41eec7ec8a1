package batpak

import (
	"context"
	"fmt"

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
// open and under load, and returns the copy's manifest.
//
// dest must not be the store's directory or lie inside it
// (ErrSnapshotInsideStore), and must be missing or an empty directory
// (ErrSnapshotNotEmpty); it is created if missing.
//
// Snapshot takes the store's visible frontier (Stats().LastGlobal) when it
// starts and then syncs the store (Sync), so every event up to the frontier
// is durable — in particular every append acknowledged before Snapshot was
// called. The copy holds exactly the events with a global sequence up to
// the frontier (snapshot.Manifest.LastGlobal): every sealed segment whole,
// and the active segment up to the end of the frontier's frame (with its
// batch COMMIT, if it ends a batch) — whole frames only, nothing written
// after the frontier. Each copied segment's sync note is set to its end (the
// copy is synced whole). Every file and the directory are fsynced, then
// MANIFEST.json (sizes and SHA-256 of every file) is written atomically;
// VerifySnapshot checks it.
//
// Only segments are copied: not LOCK, CHECKPOINT or SEQUENCE (Open on the
// copy rebuilds its index by scanning and numbers on from its last event),
// and not the durable cursors of cursors/ (their positions may lie past the
// copy's last event; a restored store's cursors start afresh).
//
// Opening the copy for writing (Open) makes it a store of its own, whose
// files then change; check it with VerifySnapshot before, or open it with
// OpenReadOnly. On failure Snapshot removes the files it created (dest
// itself is left, empty). On a read-only store (OpenReadOnly) it copies
// what that store has indexed, without syncing. All file access goes
// through the store's file system (WithFS).
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
	return snapshot.Take(ctx, src, dest)
}

// VerifySnapshot checks the snapshot in dir against its manifest: every
// file listed is present with its size and SHA-256, and no segment file is
// there that the manifest does not list. A mismatch, a missing or unreadable
// manifest is an error wrapping ErrSnapshotMismatch. It changes nothing;
// VerifyDir checks the segments' contents (frames, chains). Of the options,
// only WithFS applies.
func VerifySnapshot(ctx context.Context, dir string, opts ...Option) (snapshot.Manifest, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return snapshot.Manifest{}, err
	}
	return snapshot.Verify(ctx, cfg.fs, dir)
}
