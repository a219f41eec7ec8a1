package vfs

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
)

// Modes are the permission bits a file system gives the files and the
// directories it creates (less the process's umask on Unix, as with
// os.OpenFile and os.MkdirAll).
type Modes struct {
	File fs.FileMode // new files, lock files included
	Dir  fs.FileMode // new directories, parents included
}

// PrivateModes, the default, give the owner alone access: files 0600,
// directories 0700.
var PrivateModes = Modes{File: 0o600, Dir: 0o700}

func (m Modes) String() string { return fmt.Sprintf("files %04o, directories %04o", m.File, m.Dir) }

// ModeFS is implemented by file systems that create with chosen modes and
// report the modes of what exists: OS and MemFS, and the FaultyFS and
// Auditor wrappers (which pass both on to what they wrap).
//
// A wrapper that embeds a *MemFS (or any ModeFS) inherits its WithModes,
// which returns a view of the embedded file system, not of the wrapper:
// operations through the view skip the wrapper. A wrapper meant to be
// used with modes implements WithModes itself, as FaultyFS does.
type ModeFS interface {
	FS
	// WithModes returns the same file system (the same files, locks and
	// state) whose Create, MkdirAll and Lock give what they create m.
	WithModes(m Modes) FS
	// Mode returns the mode (type and permission bits) of name, without
	// following a symbolic link.
	Mode(name string) (fs.FileMode, error)
}

// WithModes returns fsys creating with m, or fsys itself if it does not
// implement ModeFS (it then creates with whatever modes it chooses).
func WithModes(fsys FS, m Modes) FS {
	if mf, ok := fsys.(ModeFS); ok {
		return mf.WithModes(m)
	}
	return fsys
}

// ErrModesUnknown is wrapped by Mode on a file system that cannot report
// modes (a wrapper around one that is not a ModeFS, or Windows, where
// permission bits are not the access control).
var ErrModesUnknown = errors.New("vfs: modes unknown")

// Mode returns the mode of name on fsys, or an error wrapping
// ErrModesUnknown if fsys does not know modes.
func Mode(fsys FS, name string) (fs.FileMode, error) {
	mf, ok := fsys.(ModeFS)
	if !ok {
		return 0, fmt.Errorf("%w: %T", ErrModesUnknown, fsys)
	}
	return mf.Mode(name)
}

// LooseMode is a file or directory that grants group or other users a
// permission that want does not.
type LooseMode struct {
	Path string
	Mode fs.FileMode // as found, type bits included
	Want fs.FileMode // the permission bits expected for its type
}

func (l LooseMode) String() string {
	what := "file"
	if l.Mode.IsDir() {
		what = "directory"
	}
	return fmt.Sprintf("%s %s has mode %04o, which grants group or other users %s (expected at most %04o)",
		what, l.Path, l.Mode.Perm(), describeExtra(l.Mode.Perm()&^l.Want&0o077), l.Want)
}

// describeExtra names the group and other bits of extra.
func describeExtra(extra fs.FileMode) string {
	var parts []string
	for _, who := range []struct {
		name  string
		shift uint
	}{{"group", 3}, {"others", 0}} {
		var rights string
		bits := (extra >> who.shift) & 0o7
		for _, r := range []struct {
			bit  fs.FileMode
			name string
		}{{4, "r"}, {2, "w"}, {1, "x"}} {
			if bits&r.bit != 0 {
				rights += r.name
			}
		}
		if rights != "" {
			parts = append(parts, who.name+" "+rights)
		}
	}
	if len(parts) == 0 {
		return "nothing more"
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return parts[0] + " and " + parts[1]
}

// LooseModes walks dir and everything below it and returns every file and
// directory (dir included) whose group or other permission bits exceed
// want's for its type; symbolic links and other special files are skipped.
// Owner bits are not judged. On a file system that cannot report modes (a
// plain FS, or the real one on Windows) it returns nil and an error
// wrapping ErrModesUnknown. A store calls it when it opens; tools (the
// batpak command's verify and inspect) report what it finds.
func LooseModes(fsys FS, dir string, want Modes) ([]LooseMode, error) {
	if !modesKnown(fsys) {
		return nil, fmt.Errorf("%w: %T", ErrModesUnknown, fsys)
	}
	var loose []LooseMode
	var walk func(p string) error
	walk = func(p string) error {
		m, err := Mode(fsys, p)
		if err != nil {
			return err
		}
		var allowed fs.FileMode
		switch {
		case m.IsDir():
			allowed = want.Dir
		case m.IsRegular():
			allowed = want.File
		default:
			return nil
		}
		if m.Perm()&0o077&^allowed != 0 {
			loose = append(loose, LooseMode{Path: p, Mode: m, Want: allowed.Perm()})
		}
		if !m.IsDir() {
			return nil
		}
		names, err := fsys.List(p)
		if err != nil {
			return err
		}
		for _, n := range names {
			if err := walk(filepath.Join(p, n)); err != nil && !IsNotExist(err) {
				return err // a file removed meanwhile is not a finding
			}
		}
		return nil
	}
	if err := walk(dir); err != nil {
		return nil, err
	}
	return loose, nil
}

// WarnLooseModes logs, on logger, the files under dir that grant group or
// other users more than want (LooseModes), and changes none of them:
// whoever did may mean it. A store calls it when it opens.
func WarnLooseModes(logger *slog.Logger, fsys FS, dir string, want Modes) {
	loose, err := LooseModes(fsys, dir, want)
	switch {
	case errors.Is(err, ErrModesUnknown):
		return // a file system (or platform) without permission bits
	case err != nil:
		logger.Warn("batpak: could not check the modes of the store's files", "dir", dir, "err", err)
	case len(loose) > 0:
		logger.Warn("batpak: files of the store are open to other users; their modes are left as they are (chmod them, or choose WithFileMode)",
			"dir", dir, "modes", want.String(), "count", len(loose), "first", loose[0].String())
	}
}

// modesKnown reports whether fsys's modes mean something: it is a ModeFS,
// and not the real file system on a platform without permission bits.
func modesKnown(fsys FS) bool {
	mf, ok := fsys.(ModeFS)
	if !ok {
		return false
	}
	if _, real := mf.(osFS); real {
		return modesEnforced
	}
	if u, ok := fsys.(interface{ unwrapFS() FS }); ok {
		return modesKnown(u.unwrapFS())
	}
	return true
}

// IsOS reports whether fsys is the real file system (OS, with any modes).
func IsOS(fsys FS) bool {
	_, ok := fsys.(osFS)
	return ok
}
