package salvage_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/salvage"
	"github.com/batpak-go/batpak/vfs"
)

// The directories Run would create must be portable file names, like a
// store's own; a refused destination is not created.
func TestSalvageRefusesANonPortableDestination(t *testing.T) {
	root := t.TempDir()
	for _, dst := range []string{filepath.Join(root, "nul"), filepath.Join(root, "con", "rescued"), filepath.Join(root, "rescued.")} {
		_, err := salvage.Run(bg, filepath.Join(root, "src"), dst, salvage.Options{})
		require.Error(t, err, dst)
		assert.ErrorIs(t, err, salvage.ErrDestination, dst)
		assert.ErrorIs(t, err, vfs.ErrNotPortable, dst)
	}
	entries, err := vfs.OS.List(root)
	require.NoError(t, err)
	assert.Empty(t, entries, "a refused destination is not created")
}
