package snapshot

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/batpak-go/batpak/vfs"
)

// CheckDest refuses a snapshot destination that is the store's directory
// storeDir or lies inside it (ErrInsideStore) — on the real file system
// also through symbolic links — or that exists and is not an empty
// directory (ErrNotEmpty). A missing destination is fine, Take creates it,
// if the directories it would create have portable names (an error
// matching vfs.ErrNotPortable otherwise: a snapshot is made to be copied,
// to any platform). dest must not be empty (the facade rejects that as an
// invalid option first).
func CheckDest(fs vfs.FS, storeDir, dest string) error {
	store, err := filepath.Abs(storeDir)
	if err != nil {
		return err
	}
	to, err := filepath.Abs(dest)
	if err != nil {
		return err
	}
	inside := within(store, to)
	if !inside && vfs.IsOS(fs) {
		// Also through symbolic links, on the real file system.
		inside = within(resolve(store), resolve(to))
	}
	if inside {
		return fmt.Errorf("%w: %s is inside %s", ErrInsideStore, dest, storeDir)
	}
	return CheckEmpty(fs, dest)
}

// CheckEmpty refuses a destination that exists and is not an empty
// directory (ErrNotEmpty), or that is missing and would be created with a
// name that is not portable (vfs.ErrNotPortable): CheckDest without a
// store directory, for a backup a store writes from elsewhere (the
// JetStream backend's Snapshot).
func CheckEmpty(fs vfs.FS, dest string) error {
	names, err := fs.List(dest)
	switch {
	case vfs.IsNotExist(err):
		if err := vfs.CheckNewPath(fs, dest); err != nil {
			return fmt.Errorf("batpak: snapshot destination %s: %w", dest, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("batpak: snapshot destination %s: %w", dest, err)
	case len(names) > 0:
		return fmt.Errorf("%w: %s holds %d entries", ErrNotEmpty, dest, len(names))
	}
	return nil
}

// within reports whether path p is dir or lies below it (both absolute and
// clean).
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	if err != nil {
		return false
	}
	return rel == "." || (rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)))
}

// resolve resolves the symbolic links of the longest existing prefix of
// the absolute path p.
func resolve(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	parent := filepath.Dir(p)
	if parent == p {
		return p
	}
	return filepath.Join(resolve(parent), filepath.Base(p))
}
