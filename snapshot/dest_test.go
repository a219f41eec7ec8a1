package snapshot

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/vfs"
)

func TestWithin(t *testing.T) {
	sep := string(filepath.Separator)
	root := sep + "data"
	tests := []struct {
		p    string
		want bool
	}{
		{root, true},
		{filepath.Join(root, "snap"), true},
		{filepath.Join(root, "a", "b"), true},
		{filepath.Join(root, "..snap"), true}, // a name starting with two dots is inside
		{sep + "data2", false},
		{sep, false},
		{filepath.Join(sep+"other", "data"), false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, within(root, tt.p), "within(%s, %s)", root, tt.p)
	}
}

func TestCheckDest(t *testing.T) {
	fs := vfs.NewMem()
	writeFile(t, fs, "/store/0000000000000001.seg", []byte("x"))
	require.NoError(t, fs.MkdirAll("/backups/empty"))
	writeFile(t, fs, "/backups/full/file", []byte("x"))
	tests := []struct {
		dest string
		want error // nil: accepted
	}{
		{"/backups/new", nil},
		{"/backups/empty", nil},
		{"/store", ErrInsideStore},
		{"/store/snap", ErrInsideStore},
		{"/store/../store/snap", ErrInsideStore},
		{"/backups/full", ErrNotEmpty},
		{"/", ErrNotEmpty},
	}
	for _, tt := range tests {
		err := CheckDest(fs, "/store", tt.dest)
		if tt.want == nil {
			assert.NoError(t, err, tt.dest)
		} else {
			assert.ErrorIs(t, err, tt.want, tt.dest)
		}
	}
}

// On the real file system a destination reached through a symbolic link
// into the store is inside it too.
func TestCheckDestFollowsSymbolicLinks(t *testing.T) {
	base := t.TempDir()
	store := filepath.Join(base, "store")
	require.NoError(t, os.Mkdir(store, 0o755))
	link := filepath.Join(base, "link")
	if err := os.Symlink(store, link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	assert.ErrorIs(t, CheckDest(vfs.OS, store, filepath.Join(link, "snap")), ErrInsideStore)
	assert.NoError(t, CheckDest(vfs.OS, store, filepath.Join(base, "snap")))
}
