package reliability_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// TestVerifyDirAcceptsASegmentBeingCreated: a writer creates a segment
// file, then writes and syncs its header. A verification that lists the
// directory in between finds a trailing segment with no valid header —
// as does one after a crash at that point, which Open cleans up by
// removing the file. Neither is damage: it holds no event.
func TestVerifyDirAcceptsASegmentBeingCreated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	s := openStore(t, dir)
	c := coord(t, "player:1", "room:1")
	for i := range 5 {
		mustAppend(t, s, c, kindMoved, payload{N: i})
	}
	closeStore(t, s)
	segs := segmentFiles(t, vfs.OS, dir)
	last, ok := segment.ParseFileName(segs[len(segs)-1])
	require.True(t, ok)
	hdr := segment.EncodeHeader(segment.Header{ID: last + 1})
	for _, tc := range []struct {
		name   string
		data   []byte
		unused bool // no valid header: Open would remove the file
	}{
		{"empty", nil, true},
		{"half a header", hdr[:20], true},
		{"zeros", make([]byte, 4096), true},
		// A whole header starts an empty segment (its sync note is not
		// part of what makes the header valid).
		{"a header without its sync note, then zeros", append(append([]byte(nil), hdr[:32]...), make([]byte, 4096)...), false},
		{"a header", hdr[:], false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			createFile(t, filepath.Join(dir, segment.FileName(last+1)), tc.data)
			rep, err := batpak.VerifyDir(bg, dir, nil)
			require.NoError(t, err)
			assert.True(t, rep.OK(), "problem: %v", rep.Problem)
			assert.Equal(t, 5, rep.Events)
			if tc.unused {
				assert.Equal(t, []uint64{last + 1}, rep.UnusedSegments)
			} else {
				assert.Empty(t, rep.UnusedSegments)
			}

			ro, err := batpak.OpenReadOnly(dir, quiet)
			require.NoError(t, err)
			assert.Equal(t, 5, ro.Stats().Events)
			require.NoError(t, ro.Close())
		})
	}
	// A header-less segment followed by data is damage, not a segment
	// being created (frames are written only after the header is synced).
	createFile(t, filepath.Join(dir, segment.FileName(last+1)), append(make([]byte, segment.HeaderSize), 1, 2, 3))
	rep, err := batpak.VerifyDir(bg, dir, nil)
	require.NoError(t, err)
	assert.False(t, rep.OK())
	assert.Empty(t, rep.UnusedSegments)
}

// createFile creates (or replaces) a file on the real file system holding b.
func createFile(t *testing.T, name string, b []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(name, b, 0o644))
}
