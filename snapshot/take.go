package snapshot

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"time"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/kinds"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// Source is the open store Take copies.
type Source struct {
	FS       vfs.FS
	Dir      string
	Index    *index.Index     // the frontier (LastGlobal), and where its event lies
	Segments *reader.Segments // names the file of an index entry's segment
	// Sync, if not nil, is the store's write barrier: when it returns,
	// every event up to the frontier taken before it is durable. A
	// read-only store has none.
	Sync  func(context.Context) error
	Clock func() time.Time // dates the manifest
	// Extra, if not nil, gives whole files to copy besides the segments,
	// by name (an encrypted store's keyset). It is called after the sync,
	// so what it gives covers every event the copy holds.
	Extra func() (map[string][]byte, error)
}

// Take writes a consistent copy of src into dest and returns its manifest.
// The caller has checked dest (CheckDest) and keeps the segment files from
// changing as files meanwhile (the store holds its maintenance lock, so no
// compaction runs); appends go on.
//
// Take reads the frontier (Index.LastGlobal), then calls Sync, so every
// event up to it is durable. The copy holds exactly the events up to the
// frontier: every sealed segment whole, and the frontier's segment up to
// the end of its frame (and of the batch COMMIT after it, if it ends a
// batch) — never bytes written after. Each copy's sync note is set to its
// end. The kind names (kinds.FileName) are copied too, after the
// frontier: every event up to it had its name kept before it was written.
// Every file and the directory are fsynced, then the manifest is written
// atomically. Only segments, the kind names and the files Extra gives are
// copied. On failure Take removes the files it created; dest itself is
// left.
func Take(ctx context.Context, src Source, dest string) (Manifest, error) {
	fs := src.FS
	// Every directory created on the way must survive a crash too.
	if err := vfs.MkdirAllDurable(fs, dest); err != nil {
		return Manifest{}, fmt.Errorf("batpak: creating %s: %w", dest, err)
	}
	// The frontier first, then the sync: everything up to it is then
	// durable (its bytes were written before it was published, and the sync
	// barrier follows them through the writer).
	last := src.Index.LastGlobal()
	if src.Sync != nil {
		if err := src.Sync(ctx); err != nil {
			return Manifest{}, err
		}
	}
	man := Manifest{
		Version: ManifestVersion, SegmentFormat: segment.Version,
		Store: src.Dir, Created: src.Clock().UTC(), LastGlobal: last, Files: []File{},
	}
	var created []string // files made in dest, removed on failure
	fail := func(err error) (Manifest, error) {
		for _, name := range created {
			_ = fs.Remove(filepath.Join(dest, name))
		}
		_ = fs.SyncDir(dest)
		return Manifest{}, err
	}
	if last > 0 {
		plan, err := src.plan(last)
		if err != nil {
			return fail(err)
		}
		for _, p := range plan {
			if err := ctx.Err(); err != nil {
				return fail(err)
			}
			created = append(created, p.name)
			f, err := copySegment(ctx, fs, filepath.Join(src.Dir, p.name), filepath.Join(dest, p.name), p.size)
			if err != nil {
				return fail(fmt.Errorf("batpak: snapshot of %s: %w", p.name, err))
			}
			man.Files = append(man.Files, f)
		}
	}
	created = append(created, kinds.FileName)
	names, ok, err := copyFile(ctx, fs, filepath.Join(src.Dir, kinds.FileName), filepath.Join(dest, kinds.FileName))
	switch {
	case err != nil:
		return fail(fmt.Errorf("batpak: snapshot of %s: %w", kinds.FileName, err))
	case ok:
		man.Files = append(man.Files, names)
	}
	if src.Extra != nil {
		extra, err := src.Extra()
		if err != nil {
			return fail(err)
		}
		for _, name := range slices.Sorted(maps.Keys(extra)) {
			created = append(created, name)
			f, err := writeWhole(fs, filepath.Join(dest, name), extra[name])
			if err != nil {
				return fail(fmt.Errorf("batpak: snapshot of %s: %w", name, err))
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
	created = append(created, ManifestFile+".tmp", ManifestFile)
	if err := vfs.WriteFileAtomic(fs, dest, ManifestFile, append(b, '\n')); err != nil {
		return fail(fmt.Errorf("batpak: writing the snapshot manifest: %w", err))
	}
	return man, nil
}

// part is one segment to copy: its first size bytes.
type part struct {
	name string
	size int64 // -1: the whole (sealed) file
}

// plan lists the segments that hold the events up to global sequence
// last, with how much of the last one to copy.
func (src Source) plan(last uint64) ([]part, error) {
	var e index.Entry
	found := false
	for x := range src.Index.Query(event.AllEvents(), last-1) {
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
	frontier := src.Segments.FileID(e.Segment) // compaction may have renumbered it in memory
	f, err := src.FS.Open(filepath.Join(src.Dir, segment.FileName(frontier)))
	if err != nil {
		return nil, err
	}
	n, err := commitAfter(f, end, last)
	f.Close()
	if err != nil {
		return nil, err
	}
	end += n

	names, err := src.FS.List(src.Dir)
	if err != nil {
		return nil, err
	}
	var plan []part
	for _, name := range names {
		id, ok := segment.ParseFileName(name)
		switch {
		case !ok || id > frontier:
			// Not a segment, or one begun after the frontier's: it holds
			// no event up to the frontier.
		case id == frontier:
			plan = append(plan, part{name: name, size: end})
		default:
			// Sealed (trimmed and synced) before the frontier's segment
			// was created: it no longer changes.
			plan = append(plan, part{name: name, size: -1})
		}
	}
	return plan, nil
}

// commitAfter returns the size of the batch COMMIT frame at off if there
// is one closing a batch whose last event is global sequence last, else 0.
func commitAfter(f vfs.File, off int64, last uint64) (int64, error) {
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
