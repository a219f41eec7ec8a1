//go:build unix

package batpak_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/vfs"
)

// On the real disk with the umask cleared (process-wide: not parallel), the
// modes of what a store creates are exactly the store's choice.
func TestStoreModesOnDisk(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)

	t.Run("Private", func(t *testing.T) {
		root := t.TempDir()
		data, backups := filepath.Join(root, "data"), filepath.Join(root, "backups")
		useStore(t, vfs.OS, filepath.Join(data, "db"), filepath.Join(backups, "monday"))
		checkTreeModes(t, vfs.OS, vfs.PrivateModes, data, backups)
	})
	t.Run("Group", func(t *testing.T) {
		root := t.TempDir()
		group := vfs.Modes{File: 0o660, Dir: 0o770}
		data, backups := filepath.Join(root, "data"), filepath.Join(root, "backups")
		useStore(t, vfs.OS, filepath.Join(data, "db"), filepath.Join(backups, "monday"), batpak.WithFileMode(group.File, group.Dir))
		checkTreeModes(t, vfs.OS, group, data, backups)
	})
	t.Run("LooseKept", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "db")
		useStore(t, vfs.OS, dir, "")
		require.NoError(t, os.Chmod(dir, 0o755))
		loose, err := vfs.LooseModes(vfs.OS, dir, vfs.PrivateModes)
		require.NoError(t, err)
		require.Len(t, loose, 1)
		useStore(t, vfs.OS, dir, "") // opens, warns (tested on MemFS), changes nothing
		fi, err := os.Stat(dir)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o755), fi.Mode().Perm())
	})
}
