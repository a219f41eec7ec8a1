package snapshot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/batpak-go/batpak/kinds"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// ManifestFile is the name of a snapshot's manifest. It is written last,
// atomically: a directory without it is not a complete snapshot.
const ManifestFile = "MANIFEST.json"

// ManifestVersion is the version of the manifest format Take writes and
// Verify reads.
const ManifestVersion = 1

// Errors of Take, CheckDest and Verify. The facade names them too
// (batpak.ErrSnapshotInsideStore, …); errors.Is matches either name.
var (
	// ErrInsideStore is returned for a destination that is the store's
	// directory or lies inside it.
	ErrInsideStore = errors.New("batpak: snapshot destination is inside the store's directory")
	// ErrNotEmpty is returned for a destination that exists and is not an
	// empty directory.
	ErrNotEmpty = errors.New("batpak: snapshot destination is not empty")
	// ErrMismatch is returned by Verify when the snapshot's files do not
	// match its manifest (or it has no readable manifest).
	ErrMismatch = errors.New("batpak: snapshot does not match its manifest")
)

// Manifest describes a snapshot; it is stored as MANIFEST.json in the
// snapshot's directory (docs/FORMAT.md, "Snapshot manifest").
type Manifest struct {
	Version       int       `json:"version"`        // ManifestVersion
	SegmentFormat int       `json:"segment_format"` // the segment format version (FORMAT.md)
	Store         string    `json:"store"`          // the directory of the store copied
	Created       time.Time `json:"created"`        // by the store's clock
	// LastGlobal is the global sequence of the newest event in the copy (0
	// for an empty store): the copy holds exactly the store's events up to it.
	LastGlobal uint64 `json:"last_global"`
	Files      []File `json:"files"` // the segment files, in order, then the kind names (KINDS.json) if the store kept any
}

// File is one file of a snapshot.
type File struct {
	Name   string `json:"name"`   // relative to the snapshot's directory
	Size   int64  `json:"size"`   // bytes
	SHA256 string `json:"sha256"` // of the whole file, lower-case hex
}

// chunk is how much a copy or a hash reads at a time.
const chunk = 1 << 20

// maxManifest bounds the manifest Verify reads.
const maxManifest = 64 << 20

// Verify checks the snapshot in dir, read through fs, against its
// manifest: every file listed is present with its size and SHA-256, and no
// segment file is there that the manifest does not list. A mismatch, a
// missing or unreadable manifest is an error wrapping ErrMismatch; the
// context's error is returned as it is. It changes nothing and does not
// look inside the segments (reader.Verify checks frames and chains).
func Verify(ctx context.Context, fs vfs.FS, dir string) (Manifest, error) {
	mismatch := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrMismatch, dir, fmt.Sprintf(format, args...))
	}
	b, err := readSmall(fs, filepath.Join(dir, ManifestFile), maxManifest)
	if err != nil {
		return Manifest{}, fmt.Errorf("%w: %s: reading the manifest: %w", ErrMismatch, dir, err)
	}
	var man Manifest
	if err := json.Unmarshal(b, &man); err != nil {
		return Manifest{}, mismatch("malformed manifest: %v", err)
	}
	if man.Version != ManifestVersion {
		return man, mismatch("manifest version %d, this build reads %d", man.Version, ManifestVersion)
	}
	listed := make(map[string]bool, len(man.Files))
	for _, f := range man.Files {
		if _, ok := segment.ParseFileName(f.Name); (!ok && f.Name != kinds.FileName) || listed[f.Name] {
			return man, mismatch("manifest lists %q, not a segment file name (or %s) or listed twice", f.Name, kinds.FileName)
		}
		listed[f.Name] = true
		if err := ctx.Err(); err != nil {
			return man, err
		}
		size, sum, err := hashFile(ctx, fs, filepath.Join(dir, f.Name))
		if err != nil {
			if ctx.Err() != nil {
				return man, ctx.Err()
			}
			return man, fmt.Errorf("%w: %s: %s: %w", ErrMismatch, dir, f.Name, err)
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

// Seal writes the manifest of the store directory dir, which nothing
// writes to any more: a copy a store made with its own appends rather than
// by Take (the JetStream backend's Snapshot writes its events into a new
// embedded store, closes it, and seals it). Every file but the segments is
// removed, as a snapshot holds only segments (the store synced them when
// it closed), then the segments are hashed and the manifest is written
// atomically. store names
// where the events came from; last is the newest global sequence copied.
func Seal(ctx context.Context, fs vfs.FS, dir, store string, created time.Time, last uint64) (Manifest, error) {
	names, err := fs.List(dir)
	if err != nil {
		return Manifest{}, err
	}
	man := Manifest{
		Version: ManifestVersion, SegmentFormat: segment.Version,
		Store: store, Created: created.UTC(), LastGlobal: last, Files: []File{},
	}
	for _, n := range names { // List sorts: segments in order
		p := filepath.Join(dir, n)
		if _, ok := segment.ParseFileName(n); !ok {
			if err := fs.Remove(p); err != nil {
				return man, err
			}
			continue
		}
		size, sum, err := hashFile(ctx, fs, p)
		if err != nil {
			return man, err
		}
		man.Files = append(man.Files, File{Name: n, Size: size, SHA256: sum})
	}
	if err := fs.SyncDir(dir); err != nil {
		return man, err
	}
	b, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return man, err
	}
	if err := vfs.WriteFileAtomic(fs, dir, ManifestFile, append(b, '\n')); err != nil {
		return man, fmt.Errorf("batpak: writing the snapshot manifest: %w", err)
	}
	return man, nil
}

// hashFile returns a file's size and SHA-256 (lower-case hex).
func hashFile(ctx context.Context, fs vfs.FS, name string) (int64, string, error) {
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
	buf := make([]byte, min(chunk, max(size, 1)))
	for off := int64(0); off < size; {
		if err := ctx.Err(); err != nil {
			return 0, "", err
		}
		c := buf[:min(int64(len(buf)), size-off)]
		n, err := f.ReadAt(c, off)
		h.Write(c[:n])
		off += int64(n)
		if n < len(c) {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return 0, "", err
		}
	}
	return size, hex.EncodeToString(h.Sum(nil)), nil
}

// readSmall reads a whole file of at most limit bytes.
func readSmall(fs vfs.FS, name string, limit int64) ([]byte, error) {
	f, err := fs.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	if size > limit {
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
