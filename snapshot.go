package batpak

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// SnapshotManifestFile is the name of a snapshot's manifest. It is written
// last, atomically: a directory without it is not a complete snapshot.
const SnapshotManifestFile = "MANIFEST.json"

// SnapshotManifestVersion is the version of the manifest format Snapshot
// writes and VerifySnapshot reads.
const SnapshotManifestVersion = 1

// Errors of Snapshot and VerifySnapshot.
var (
	// ErrSnapshotInsideStore is returned by Snapshot for a destination that
	// is the store's directory or lies inside it.
	ErrSnapshotInsideStore = errors.New("batpak: snapshot destination is inside the store's directory")
	// ErrSnapshotNotEmpty is returned by Snapshot for a destination that
	// exists and is not an empty directory.
	ErrSnapshotNotEmpty = errors.New("batpak: snapshot destination is not empty")
	// ErrSnapshotMismatch is returned by VerifySnapshot when the snapshot's
	// files do not match its manifest (or it has no readable manifest).
	ErrSnapshotMismatch = errors.New("batpak: snapshot does not match its manifest")
)

// SnapshotManifest describes a snapshot; it is stored as MANIFEST.json in
// the snapshot's directory.
type SnapshotManifest struct {
	Version       int       `json:"version"`        // SnapshotManifestVersion
	SegmentFormat int       `json:"segment_format"` // the segment format version (FORMAT.md)
	Store         string    `json:"store"`          // the directory of the store copied
	Created       time.Time `json:"created"`        // by the store's clock
	// LastGlobal is the global sequence of the newest event in the copy (0
	// for an empty store): the copy holds exactly the store's events up to it.
	LastGlobal uint64         `json:"last_global"`
	Files      []SnapshotFile `json:"files"` // the segment files, in order
}

// SnapshotFile is one file of a snapshot.
type SnapshotFile struct {
	Name   string `json:"name"`   // relative to the snapshot's directory
	Size   int64  `json:"size"`   // bytes
	SHA256 string `json:"sha256"` // of the whole file, lower-case hex
}

// snapshotChunk is how much Snapshot copies per read.
const snapshotChunk = 1 << 20

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
// the frontier (SnapshotManifest.LastGlobal): every sealed segment whole,
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
func (s *Store) Snapshot(ctx context.Context, dest string) (SnapshotManifest, error) {
	if err := s.readable(ctx); err != nil {
		return SnapshotManifest{}, err
	}
	fs := s.cfg.fs
	if err := s.checkSnapshotDest(dest); err != nil {
		return SnapshotManifest{}, err
	}
	s.maint.Lock() // the segment files must not change under the copy
	defer s.maint.Unlock()
	// Every directory created on the way must survive a crash too.
	if err := vfs.MkdirAllDurable(fs, dest); err != nil {
		return SnapshotManifest{}, fmt.Errorf("batpak: creating %s: %w", dest, err)
	}

	// The frontier first, then the sync: everything up to it is then
	// durable (its bytes were written before it was published, and the sync
	// barrier follows them through the writer).
	last := s.idx.LastGlobal()
	if !s.readOnly {
		if err := s.Sync(ctx); err != nil {
			return SnapshotManifest{}, err
		}
	}
	man := SnapshotManifest{
		Version: SnapshotManifestVersion, SegmentFormat: segment.Version,
		Store: s.dir, Created: s.cfg.clock().UTC(), LastGlobal: last, Files: []SnapshotFile{},
	}
	var created []string // files made in dest, removed on failure
	fail := func(err error) (SnapshotManifest, error) {
		for _, name := range created {
			_ = fs.Remove(filepath.Join(dest, name))
		}
		_ = fs.SyncDir(dest)
		return SnapshotManifest{}, err
	}
	if last > 0 {
		plan, err := s.snapshotPlan(last)
		if err != nil {
			return fail(err)
		}
		for _, p := range plan {
			if err := ctx.Err(); err != nil {
				return fail(err)
			}
			created = append(created, p.name)
			f, err := snapshotCopySegment(ctx, fs, filepath.Join(s.dir, p.name), filepath.Join(dest, p.name), p.size)
			if err != nil {
				return fail(fmt.Errorf("batpak: snapshot of %s: %w", p.name, err))
			}
			man.Files = append(man.Files, f)
		}
	}
	if err := fs.SyncDir(dest); err != nil {
		return fail(err)
	}
	b, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return fail(err)
	}
	created = append(created, SnapshotManifestFile+".tmp", SnapshotManifestFile)
	if err := vfs.WriteFileAtomic(fs, dest, SnapshotManifestFile, append(b, '\n')); err != nil {
		return fail(fmt.Errorf("batpak: writing the snapshot manifest: %w", err))
	}
	return man, nil
}

// snapshotSegment is one segment to copy: its first size bytes.
type snapshotSegment struct {
	name string
	size int64 // -1: the whole (sealed) file
}

// snapshotPlan lists the segments that hold the events up to global
// sequence last, with how much of the last one to copy.
func (s *Store) snapshotPlan(last uint64) ([]snapshotSegment, error) {
	var e index.Entry
	found := false
	for x := range s.idx.Query(event.AllEvents(), last-1) {
		e, found = x, true
		break
	}
	if !found || e.Global != last {
		return nil, fmt.Errorf("batpak: snapshot: event %d is not in the index", last)
	}
	end := int64(e.Offset) + int64(e.Size)
	// The newest event may end an atomic batch: its COMMIT follows it (it
	// was written before the batch was published), and without it the copy
	// would discard the batch.
	frontier := s.segs.FileID(e.Segment) // compaction may have renumbered it in memory
	f, err := s.cfg.fs.Open(filepath.Join(s.dir, segment.FileName(frontier)))
	if err != nil {
		return nil, err
	}
	n, err := snapshotCommitAfter(f, end, last)
	f.Close()
	if err != nil {
		return nil, err
	}
	end += n

	names, err := s.cfg.fs.List(s.dir)
	if err != nil {
		return nil, err
	}
	var plan []snapshotSegment
	for _, name := range names {
		id, ok := segment.ParseFileName(name)
		switch {
		case !ok || id > frontier:
			// Not a segment, or one begun after the frontier's: it holds
			// no event up to the frontier.
		case id == frontier:
			plan = append(plan, snapshotSegment{name: name, size: end})
		default:
			// Sealed (trimmed and synced) before the frontier's segment
			// was created: it no longer changes.
			plan = append(plan, snapshotSegment{name: name, size: -1})
		}
	}
	return plan, nil
}

// snapshotCommitAfter returns the size of the batch COMMIT frame at off if there is
// one closing a batch whose last event is global sequence last, else 0.
func snapshotCommitAfter(f vfs.File, off int64, last uint64) (int64, error) {
	var b [segment.FrameHeaderSize + 1 + 2*binary.MaxVarintLen64]byte
	n, err := f.ReadAt(b[:], off)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	body, size, err := segment.ReadFrame(b[:n])
	if err != nil || body[0] != segment.TypeBatchCommit {
		return 0, nil
	}
	m, err := segment.ParseMarker(body)
	if err != nil || m.FirstGlobal+uint64(m.Count)-1 != last {
		return 0, nil
	}
	return int64(size), nil
}

// snapshotCopySegment copies the first size bytes of segment file src (all of it
// if size < 0) to a new file dst, with a sync note covering the copy's end,
// syncs it and returns its manifest entry.
func snapshotCopySegment(ctx context.Context, fs vfs.FS, src, dst string, size int64) (SnapshotFile, error) {
	in, err := fs.Open(src)
	if err != nil {
		return SnapshotFile{}, err
	}
	defer in.Close()
	if size < 0 {
		if size, err = in.Size(); err != nil {
			return SnapshotFile{}, err
		}
	}
	if size < segment.HeaderSize {
		return SnapshotFile{}, fmt.Errorf("%w: segment of %d bytes", segment.ErrTorn, size)
	}
	out, err := fs.Create(dst)
	if err != nil {
		return SnapshotFile{}, err
	}
	h := sha256.New()
	err = snapshotCopyRange(ctx, in, out, size, h)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return SnapshotFile{}, err
	}
	return SnapshotFile{Name: filepath.Base(dst), Size: size, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// snapshotCopyRange copies in's first size bytes to out, rewriting the sync note,
// and feeds what it writes to h.
func snapshotCopyRange(ctx context.Context, in, out vfs.File, size int64, h hash.Hash) error {
	buf := make([]byte, min(snapshotChunk, size))
	for off := int64(0); off < size; {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk := buf[:min(int64(len(buf)), size-off)]
		n, err := in.ReadAt(chunk, off)
		if n < len(chunk) {
			if err == nil || errors.Is(err, io.EOF) {
				err = fmt.Errorf("%w: the file ends at %d, %d bytes were expected", io.ErrUnexpectedEOF, off+int64(n), size)
			}
			return err
		}
		if off == 0 {
			// The copy is synced whole: its note says so (the source's
			// note may lag, or be rewritten while it is read).
			note := segment.EncodeSyncNote(size)
			copy(chunk[segment.SyncNoteOffset:], note[:])
		}
		if _, err := out.WriteAt(chunk, off); err != nil {
			return err
		}
		h.Write(chunk)
		off += int64(len(chunk))
	}
	return nil
}

// checkSnapshotDest refuses a destination inside the store's directory or
// one that is not empty.
func (s *Store) checkSnapshotDest(dest string) error {
	if dest == "" {
		return fmt.Errorf("%w: empty snapshot destination", ErrInvalidOption)
	}
	store, err := filepath.Abs(s.dir)
	if err != nil {
		return err
	}
	to, err := filepath.Abs(dest)
	if err != nil {
		return err
	}
	inside := snapshotWithin(store, to)
	if !inside && s.cfg.fs == vfs.OS {
		// Also through symbolic links, on the real file system.
		inside = snapshotWithin(snapshotResolve(store), snapshotResolve(to))
	}
	if inside {
		return fmt.Errorf("%w: %s is inside %s", ErrSnapshotInsideStore, dest, s.dir)
	}
	names, err := s.cfg.fs.List(dest)
	switch {
	case vfs.IsNotExist(err):
		return nil
	case err != nil:
		return fmt.Errorf("batpak: snapshot destination %s: %w", dest, err)
	case len(names) > 0:
		return fmt.Errorf("%w: %s holds %d entries", ErrSnapshotNotEmpty, dest, len(names))
	}
	return nil
}

// snapshotWithin reports whether path p is dir or lies below it (both absolute
// and clean).
func snapshotWithin(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	if err != nil {
		return false
	}
	return rel == "." || (rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)))
}

// snapshotResolve resolves the symbolic links of the longest existing prefix
// of the absolute path p.
func snapshotResolve(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	parent := filepath.Dir(p)
	if parent == p {
		return p
	}
	return filepath.Join(snapshotResolve(parent), filepath.Base(p))
}

// VerifySnapshot checks the snapshot in dir against its manifest: every
// file listed is present with its size and SHA-256, and no segment file is
// there that the manifest does not list. A mismatch, a missing or unreadable
// manifest is an error wrapping ErrSnapshotMismatch. It changes nothing;
// VerifyDir checks the segments' contents (frames, chains). Of the options,
// only WithFS applies.
func VerifySnapshot(ctx context.Context, dir string, opts ...Option) (SnapshotManifest, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := errors.Join(cfg.errs...); err != nil {
		return SnapshotManifest{}, err
	}
	fs := cfg.fs
	mismatch := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrSnapshotMismatch, dir, fmt.Sprintf(format, args...))
	}
	b, err := snapshotReadFile(fs, filepath.Join(dir, SnapshotManifestFile))
	if err != nil {
		return SnapshotManifest{}, fmt.Errorf("%w: %s: reading the manifest: %w", ErrSnapshotMismatch, dir, err)
	}
	var man SnapshotManifest
	if err := json.Unmarshal(b, &man); err != nil {
		return SnapshotManifest{}, mismatch("malformed manifest: %v", err)
	}
	if man.Version != SnapshotManifestVersion {
		return man, mismatch("manifest version %d, this build reads %d", man.Version, SnapshotManifestVersion)
	}
	listed := make(map[string]bool, len(man.Files))
	for _, f := range man.Files {
		if _, ok := segment.ParseFileName(f.Name); !ok || listed[f.Name] {
			return man, mismatch("manifest lists %q, not a segment file name or listed twice", f.Name)
		}
		listed[f.Name] = true
		if err := ctx.Err(); err != nil {
			return man, err
		}
		size, sum, err := snapshotHashFile(ctx, fs, filepath.Join(dir, f.Name))
		if err != nil {
			if ctx.Err() != nil {
				return man, ctx.Err()
			}
			return man, fmt.Errorf("%w: %s: %s: %w", ErrSnapshotMismatch, dir, f.Name, err)
		}
		if size != f.Size {
			return man, mismatch("%s has %d bytes, the manifest says %d", f.Name, size, f.Size)
		}
		if sum != f.SHA256 {
			return man, mismatch("%s has SHA-256 %s, the manifest says %s", f.Name, sum, f.SHA256)
		}
	}
	names, err := fs.List(dir)
	if err != nil {
		return man, err
	}
	for _, n := range names {
		if _, ok := segment.ParseFileName(n); ok && !listed[n] {
			return man, mismatch("segment %s is not in the manifest", n)
		}
	}
	return man, nil
}

// snapshotHashFile returns a file's size and SHA-256 (hex).
func snapshotHashFile(ctx context.Context, fs vfs.FS, name string) (int64, string, error) {
	f, err := fs.Open(name)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return 0, "", err
	}
	h := sha256.New()
	buf := make([]byte, min(snapshotChunk, max(size, 1)))
	for off := int64(0); off < size; {
		if err := ctx.Err(); err != nil {
			return 0, "", err
		}
		chunk := buf[:min(int64(len(buf)), size-off)]
		n, err := f.ReadAt(chunk, off)
		h.Write(chunk[:n])
		off += int64(n)
		if n < len(chunk) {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return 0, "", err
		}
	}
	return size, hex.EncodeToString(h.Sum(nil)), nil
}

// snapshotReadFile reads a small file.
func snapshotReadFile(fs vfs.FS, name string) ([]byte, error) {
	f, err := fs.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	if size > 64<<20 {
		return nil, fmt.Errorf("%d bytes is too large for a manifest", size)
	}
	b := make([]byte, size)
	n, err := f.ReadAt(b, 0)
	if n == len(b) {
		return b, nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return nil, err
}
