package snapshot

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

const snap = "/backups/one"

// goodSnapshot writes two segment files and a manifest that lists them.
func goodSnapshot(t *testing.T) (*vfs.MemFS, Manifest) {
	t.Helper()
	fs := vfs.NewMem()
	one, two := newSeg(1).ev("a", 1, 0).buf, newSeg(2).ev("a", 2, 1).buf
	writeFile(t, fs, filepath.Join(snap, segment.FileName(1)), one)
	writeFile(t, fs, filepath.Join(snap, segment.FileName(2)), two)
	man := Manifest{Version: ManifestVersion, SegmentFormat: segment.Version, Store: "/store", LastGlobal: 2, Files: []File{
		{Name: segment.FileName(1), Size: int64(len(one)), SHA256: sha(one)},
		{Name: segment.FileName(2), Size: int64(len(two)), SHA256: sha(two)},
	}}
	writeManifest(t, fs, man)
	return fs, man
}

func writeManifest(t *testing.T, fs vfs.FS, man Manifest) {
	t.Helper()
	b, err := json.Marshal(man)
	require.NoError(t, err)
	writeFile(t, fs, filepath.Join(snap, ManifestFile), b)
}

func TestVerifyAcceptsAMatchingSnapshot(t *testing.T) {
	fs, man := goodSnapshot(t)
	// Files that are not segments are no business of the manifest.
	writeFile(t, fs, filepath.Join(snap, "README"), []byte("restore with care"))
	got, err := Verify(context.Background(), fs, snap)
	require.NoError(t, err)
	assert.Equal(t, man, got)
}

func TestVerifyRefusesAMismatch(t *testing.T) {
	seg1 := filepath.Join(snap, segment.FileName(1))
	tests := []struct {
		name   string
		damage func(t *testing.T, fs *vfs.MemFS, man Manifest)
	}{
		{"a listed file changed", func(t *testing.T, fs *vfs.MemFS, _ Manifest) {
			b := readFile(t, fs, seg1)
			b[len(b)-1] ^= 1
			writeFile(t, fs, seg1, b)
		}},
		{"a listed file cut short", func(t *testing.T, fs *vfs.MemFS, _ Manifest) {
			b := readFile(t, fs, seg1)
			writeFile(t, fs, seg1, b[:len(b)-1])
		}},
		{"a listed file missing", func(t *testing.T, fs *vfs.MemFS, _ Manifest) {
			require.NoError(t, fs.Remove(seg1))
		}},
		{"a segment the manifest does not list", func(t *testing.T, fs *vfs.MemFS, _ Manifest) {
			writeFile(t, fs, filepath.Join(snap, segment.FileName(3)), newSeg(3).buf)
		}},
		{"a listed name that is not a segment's", func(t *testing.T, fs *vfs.MemFS, man Manifest) {
			man.Files[0].Name = "../" + segment.FileName(1)
			writeManifest(t, fs, man)
		}},
		{"a file listed twice", func(t *testing.T, fs *vfs.MemFS, man Manifest) {
			man.Files[1] = man.Files[0]
			writeManifest(t, fs, man)
		}},
		{"a manifest of another version", func(t *testing.T, fs *vfs.MemFS, man Manifest) {
			man.Version = ManifestVersion + 1
			writeManifest(t, fs, man)
		}},
		{"a malformed manifest", func(t *testing.T, fs *vfs.MemFS, _ Manifest) {
			writeFile(t, fs, filepath.Join(snap, ManifestFile), []byte(`{"version": 1, "files": [`))
		}},
		{"no manifest", func(t *testing.T, fs *vfs.MemFS, _ Manifest) {
			require.NoError(t, fs.Remove(filepath.Join(snap, ManifestFile)))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, man := goodSnapshot(t)
			tt.damage(t, fs, man)
			_, err := Verify(context.Background(), fs, snap)
			assert.ErrorIs(t, err, ErrMismatch)
		})
	}
}

func TestVerifyReturnsTheContextsError(t *testing.T) {
	fs, _ := goodSnapshot(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Verify(ctx, fs, snap)
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, ErrMismatch)
}

func TestHashFile(t *testing.T) {
	fs := vfs.NewMem()
	big := make([]byte, chunk+123) // more than one read
	for i := range big {
		big[i] = byte(i * 7)
	}
	for name, b := range map[string][]byte{"empty": nil, "small": []byte("abc"), "big": big} {
		t.Run(name, func(t *testing.T) {
			writeFile(t, fs, "/h/"+name, b)
			size, sum, err := hashFile(context.Background(), fs, "/h/"+name)
			require.NoError(t, err)
			assert.Equal(t, int64(len(b)), size)
			assert.Equal(t, sha(b), sum)
		})
	}
}
