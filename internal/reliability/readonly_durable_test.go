package reliability_test

import (
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// A read-only open shows what the writing process has made durable, no
// more: the same as a follower after Refresh, and the same as a power loss
// at that instant would leave.

// TestReadOnlyOpenHidesAnEventAwaitingItsFsync holds the fsync actor just
// before the fsync of a sixth event, written to the segment but not
// synced: the writer, a follower and a fresh read-only open all show five,
// as does the image a power loss would leave; once the fsync runs, all
// show six.
func TestReadOnlyOpenHidesAnEventAwaitingItsFsync(t *testing.T) {
	mem := vfs.NewMem()
	var hold atomic.Bool
	reached, release := make(chan struct{}), make(chan struct{})
	s := openStore(t, memDir, batpak.WithFS(mem), batpak.WithInjection(func(p batpak.InjectionPoint) error {
		if p == batpak.InjectBeforeFsync && hold.CompareAndSwap(true, false) {
			close(reached)
			<-release
		}
		return nil
	}))
	c := coord(t, "player:1", "room:1")
	for i := range 5 {
		mustAppend(t, s, c, kindMoved, payload{N: i})
	}
	follower, err := batpak.OpenReadOnly(memDir, batpak.WithFS(mem), quiet)
	require.NoError(t, err)
	defer follower.Close()

	hold.Store(true)
	sixth := make(chan error, 1)
	go func() {
		_, err := s.Append(bg, c, kindMoved, payload{N: 5})
		sixth <- err
	}()
	<-reached // the sixth event is in the segment file; its fsync waits

	assert.Equal(t, 5, s.Stats().Events, "the writer")
	n, err := follower.Refresh(bg)
	require.NoError(t, err)
	assert.Zero(t, n, "a follower's Refresh added an event not yet synced")
	assert.Equal(t, 5, follower.Stats().Events, "the follower")

	fresh, err := batpak.OpenReadOnly(memDir, batpak.WithFS(mem), quiet)
	require.NoError(t, err)
	assert.Equal(t, 5, fresh.Stats().Events, "a fresh read-only open shows an event a power loss would erase")
	require.NoError(t, fresh.Close())

	img, err := batpak.Open(memDir, batpak.WithFS(mem.CrashClone(vfs.CrashOptions{})), quiet)
	require.NoError(t, err)
	assert.Equal(t, 5, img.Stats().Events, "the power-loss image")
	require.NoError(t, img.Close())

	close(release)
	require.NoError(t, <-sixth)
	n, err = follower.Refresh(bg)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the follower after the fsync")
	fresh, err = batpak.OpenReadOnly(memDir, batpak.WithFS(mem), quiet)
	require.NoError(t, err)
	assert.Equal(t, 6, fresh.Stats().Events, "a fresh read-only open after the fsync")
	require.NoError(t, fresh.Close())
}

// TestReadOnlyOpenHidesUnsyncedOnWriteAppends: on-write appends are
// written at once and synced later; a read-only open beside the writer
// shows them only after Sync. On the real file system the writer maps its
// segment, so the reader sees the frames the moment they are copied in.
func TestReadOnlyOpenHidesUnsyncedOnWriteAppends(t *testing.T) {
	for _, fsys := range []string{"Mem", "OS"} {
		t.Run(fsys, func(t *testing.T) {
			var fs vfs.FS = vfs.NewMem()
			dir := memDir
			if fsys == "OS" {
				fs, dir = vfs.OS, filepath.Join(t.TempDir(), "db")
			}
			s := openStore(t, dir, batpak.WithFS(fs), batpak.WithSyncEvery(0, 0))
			c := coord(t, "player:1", "room:1")
			for i := range 3 {
				mustAppend(t, s, c, kindMoved, payload{N: i})
			}
			for i := range 4 {
				_, err := s.AppendWithOptions(bg, c, kindMoved, payload{N: 10 + i}, batpak.AppendOptions{Durability: batpak.OnWrite})
				require.NoError(t, err)
			}
			require.Equal(t, 7, s.Stats().Events, "the writer shows its on-write appends")

			ro, err := batpak.OpenReadOnly(dir, batpak.WithFS(fs), quiet)
			require.NoError(t, err)
			defer ro.Close()
			assert.Equal(t, 3, ro.Stats().Events, "a read-only open shows on-write appends not yet synced")
			assert.False(t, ro.Stats().Recovery.Torn, "valid frames past the sync note are not a torn tail")
			// A snapshot taken through it copies what it shows, and notes
			// the copy synced whole: only durable events belong in it.
			snap := "/snap"
			if fsys == "OS" {
				snap = filepath.Join(t.TempDir(), "snap")
			}
			man, err := ro.Snapshot(bg, snap)
			require.NoError(t, err)
			assert.Equal(t, uint64(3), man.LastGlobal, "the snapshot of the read-only store")

			require.NoError(t, s.Sync(bg))
			n, err := ro.Refresh(bg)
			require.NoError(t, err)
			assert.Equal(t, 4, n)
			evs := all(t, ro)
			require.Len(t, evs, 7)
			checkLog(t, ro, evs, true)
		})
	}
}

// TestReadOnlyOpenDoesNotTrustTheLastSegmentsFooter: a rotation writes
// the sealed segment's footer and then syncs it; a reader that finds that
// segment last (the next not created yet, or a crash in between) cannot
// tell whether that fsync ran, so it goes by the sync note, not by the
// footer. Built by hand: a store whose first segment is sealed with a
// footer, the later segments removed, the note lowered to the end of the
// third event.
func TestReadOnlyOpenDoesNotTrustTheLastSegmentsFooter(t *testing.T) {
	mem := vfs.NewMem()
	s := openStore(t, memDir, batpak.WithFS(mem), batpak.WithSegmentSize(64<<10))
	c := coord(t, "player:1", "room:1")
	for i := range 20 {
		mustAppend(t, s, c, kindMoved, batchMark{Batch: -1, Of: 1, Pad: make([]byte, 6000+i)})
	}
	closeStore(t, s)
	segs := segmentFiles(t, mem, memDir)
	require.Greater(t, len(segs), 1)
	for _, name := range segs[1:] {
		require.NoError(t, mem.Remove(filepath.Join(memDir, name)))
	}
	for _, name := range []string{"CHECKPOINT", "SEQUENCE"} {
		_ = mem.Remove(filepath.Join(memDir, name))
	}
	first := filepath.Join(memDir, segs[0])
	data := readFile(t, mem, first)
	fr := frames(t, data)
	require.Greater(t, len(fr), 4)
	require.Equal(t, segment.TypeFooter, fr[len(fr)-1].Typ, "the sealed segment ends in its footer")
	note := segment.EncodeSyncNote(fr[3].Off) // three events known synced
	copy(data[segment.SyncNoteOffset:], note[:])
	writeFile(t, mem, first, data)

	ro, err := batpak.OpenReadOnly(memDir, batpak.WithFS(mem), quiet)
	require.NoError(t, err)
	defer ro.Close()
	assert.Equal(t, 3, ro.Stats().Events, "a read-only open went by the footer of the last segment, past its sync note")
}
