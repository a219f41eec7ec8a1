package snapshot

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

const storeDir = "/store"

var clock = func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)) }

// liveStore lays out a store whose active segment (2) ends in a batch
// followed by unused preallocated space, and recovers it read-only, as the
// open store would have it.
func liveStore(t *testing.T, fs vfs.FS) (sealed, active *segBytes, activeEnd int64, src Source) {
	t.Helper()
	sealed = newSeg(1).ev("a", 1, 0).ev("b", 2, 0)
	active = newSeg(2).ev("a", 3, 1).marker(segment.TypeBatchBegin, 2, 4).ev("a", 4, 2).ev("b", 5, 1).
		marker(segment.TypeBatchCommit, 2, 4).synced()
	activeEnd = active.len()
	active.zeros(4096)
	writeFile(t, fs, filepath.Join(storeDir, segment.FileName(1)), sealed.buf)
	writeFile(t, fs, filepath.Join(storeDir, segment.FileName(2)), active.buf)
	writeFile(t, fs, filepath.Join(storeDir, "LOCK"), nil)
	rec, err := reader.Recover(reader.Options{FS: fs, Dir: storeDir, ReadOnly: true})
	require.NoError(t, err)
	t.Cleanup(func() { rec.Segments.Close() })
	require.Equal(t, uint64(5), rec.Index.LastGlobal())
	return sealed, active, activeEnd, Source{FS: fs, Dir: storeDir, Index: rec.Index, Segments: rec.Segments, Clock: clock}
}

// TestTakeCopiesUpToTheFrontier: sealed segments whole, the active one up
// to the COMMIT of the batch holding the frontier, each copy's sync note
// at its end; the manifest says so, lies on disk and verifies; Sync runs
// once; nothing else of the store is copied.
func TestTakeCopiesUpToTheFrontier(t *testing.T) {
	fs := vfs.NewMem()
	sealed, active, end, src := liveStore(t, fs)
	syncs := 0
	src.Sync = func(context.Context) error { syncs++; return nil }

	man, err := Take(context.Background(), src, "/backups/one")
	require.NoError(t, err)
	assert.Equal(t, 1, syncs)
	assert.Equal(t, ManifestVersion, man.Version)
	assert.Equal(t, segment.Version, man.SegmentFormat)
	assert.Equal(t, storeDir, man.Store)
	assert.Equal(t, clock().UTC(), man.Created)
	assert.Equal(t, uint64(5), man.LastGlobal)

	wantSealed := withNote(sealed.buf)
	wantActive := withNote(active.buf[:end])
	assert.Equal(t, []File{
		{Name: segment.FileName(1), Size: int64(len(wantSealed)), SHA256: sha(wantSealed)},
		{Name: segment.FileName(2), Size: end, SHA256: sha(wantActive)},
	}, man.Files)
	assert.Equal(t, wantSealed, readFile(t, fs, "/backups/one/"+segment.FileName(1)))
	assert.Equal(t, wantActive, readFile(t, fs, "/backups/one/"+segment.FileName(2)))

	names, err := fs.List("/backups/one")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{segment.FileName(1), segment.FileName(2), ManifestFile}, names)
	got, err := Verify(context.Background(), fs, "/backups/one")
	require.NoError(t, err)
	assert.Equal(t, man, got)
}

// withNote is b with its sync note saying it is synced whole.
func withNote(b []byte) []byte {
	out := append([]byte(nil), b...)
	note := segment.EncodeSyncNote(int64(len(out)))
	copy(out[segment.SyncNoteOffset:], note[:])
	return out
}

func TestTakeOfAnEmptyStoreWritesAnEmptyManifest(t *testing.T) {
	fs := vfs.NewMem()
	require.NoError(t, fs.MkdirAll(storeDir))
	rec, err := reader.Recover(reader.Options{FS: fs, Dir: storeDir, ReadOnly: true})
	require.NoError(t, err)
	defer rec.Segments.Close()
	man, err := Take(context.Background(), Source{FS: fs, Dir: storeDir, Index: rec.Index, Segments: rec.Segments, Clock: clock}, "/b")
	require.NoError(t, err)
	assert.Zero(t, man.LastGlobal)
	assert.Empty(t, man.Files)
	_, err = Verify(context.Background(), fs, "/b")
	assert.NoError(t, err)
}

// TestTakeCleansUpAfterAFailure: a failed copy or sync leaves dest empty
// (and no manifest), and returns the cause.
func TestTakeCleansUpAfterAFailure(t *testing.T) {
	tests := []struct {
		name   string
		inject func(fs *vfs.FaultyFS, src *Source)
		want   error
	}{
		{"the second segment cannot be created", func(fs *vfs.FaultyFS, _ *Source) {
			fs.Inject(vfs.Rule{Op: vfs.OpCreate, Path: "/backups/one/" + segment.FileName(2)})
		}, vfs.ErrInjected},
		{"a copy cannot be synced", func(fs *vfs.FaultyFS, _ *Source) {
			fs.Inject(vfs.Rule{Op: vfs.OpSync, Path: "/backups/one/" + segment.FileName(1)})
		}, vfs.ErrInjected},
		{"the manifest cannot be renamed into place", func(fs *vfs.FaultyFS, _ *Source) {
			fs.Inject(vfs.Rule{Op: vfs.OpRename, Path: ManifestFile})
		}, vfs.ErrInjected},
		{"the store cannot sync", func(_ *vfs.FaultyFS, src *Source) {
			src.Sync = func(context.Context) error { return errBarrier }
		}, errBarrier},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := vfs.NewMem()
			fs := vfs.NewFaulty(mem)
			_, _, _, src := liveStore(t, fs)
			tt.inject(fs, &src)
			_, err := Take(context.Background(), src, "/backups/one")
			require.ErrorIs(t, err, tt.want)
			names, err := mem.List("/backups/one")
			require.NoError(t, err)
			assert.Empty(t, names)
		})
	}
}

var errBarrier = errors.New("barrier failed")

func TestCommitAfter(t *testing.T) {
	batch := newSeg(1).ev("a", 1, 0).marker(segment.TypeBatchBegin, 2, 2).ev("a", 2, 1).ev("a", 3, 2)
	endOfBatch := batch.len()
	batch.marker(segment.TypeBatchCommit, 2, 2).ev("a", 4, 3)
	commitSize := int64(segment.MarkerSize(segment.Marker{Count: 2, FirstGlobal: 2}))
	endOfFirst := newSeg(1).ev("a", 1, 0).len()
	tests := []struct {
		name string
		off  int64
		last uint64
		want int64
	}{
		{"the COMMIT closing the frontier's batch", endOfBatch, 3, commitSize},
		{"a COMMIT of a batch ending elsewhere", endOfBatch, 2, 0},
		{"an event follows, not a COMMIT", endOfFirst, 1, 0},
		{"the end of the file", batch.len(), 4, 0},
		{"past the end of the file", batch.len() + 100, 4, 0},
	}
	fs := vfs.NewMem()
	writeFile(t, fs, "/s/seg", batch.buf)
	f, err := fs.Open("/s/seg")
	require.NoError(t, err)
	defer f.Close()
	for _, tt := range tests {
		n, err := commitAfter(f, tt.off, tt.last)
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.want, n, tt.name)
	}
}

func TestCopySegment(t *testing.T) {
	fs := vfs.NewMem()
	seg := newSeg(1).ev("a", 1, 0).ev("a", 2, 1)
	writeFile(t, fs, "/s/src", seg.buf)
	ctx := context.Background()

	f, err := copySegment(ctx, fs, "/s/src", "/s/whole", -1)
	require.NoError(t, err)
	assert.Equal(t, File{Name: "whole", Size: seg.len(), SHA256: sha(withNote(seg.buf))}, f)
	assert.Equal(t, withNote(seg.buf), readFile(t, fs, "/s/whole"))

	_, err = copySegment(ctx, fs, "/s/src", "/s/long", seg.len()+1)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "a source shorter than the size asked for")
	_, err = copySegment(ctx, fs, "/s/src", "/s/short", segment.HeaderSize-1)
	assert.ErrorIs(t, err, segment.ErrTorn, "less than a header is no segment")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = copySegment(cancelled, fs, "/s/src", "/s/cancelled", -1)
	assert.ErrorIs(t, err, context.Canceled)
}
