package vfs

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// ErrNotPortable is wrapped by PortableName's error: a name that some
// platform batpak runs on (Linux, macOS, Windows) cannot hold as a file
// name, so a store using it could not be copied there.
var ErrNotPortable = errors.New("vfs: not a portable file name")

// MaxNameBytes is the longest portable name: 255 bytes is the limit of the
// usual Linux and macOS file systems (Windows allows 255 UTF-16 units,
// which 255 bytes of UTF-8 never exceed).
const MaxNameBytes = 255

// PortableName returns nil if name can be a file or directory name on
// every platform batpak runs on, and otherwise an error wrapping
// ErrNotPortable that says why. It refuses:
//   - the empty name, "." and "..";
//   - names longer than MaxNameBytes bytes, or not valid UTF-8;
//   - the characters < > : " / \ | ? * and control characters (below 0x20,
//     and 0x7f);
//   - a trailing dot or space (Windows drops them, so "a." would be "a");
//   - the device names Windows reserves, in any case, alone or before an
//     extension: CON, PRN, AUX, NUL, COM0–COM9, LPT0–LPT9 (and COM¹ … LPT³,
//     the superscript digits Windows also treats as devices).
//
// Every name the store makes a file or directory of from a caller's string
// (cursor names, the directories of a store or snapshot it creates) is
// checked with it.
func PortableName(name string) error {
	bad := func(why string) error { return fmt.Errorf("%w: %q: %s", ErrNotPortable, name, why) }
	switch {
	case name == "":
		return bad("empty")
	case name == "." || name == "..":
		return bad("a directory reference, not a name")
	case len(name) > MaxNameBytes:
		return bad(fmt.Sprintf("%d bytes, more than %d", len(name), MaxNameBytes))
	case !utf8.ValidString(name):
		return bad("not valid UTF-8")
	}
	for _, r := range name {
		switch {
		case r < 0x20 || r == 0x7f:
			return bad("holds a control character")
		case strings.ContainsRune(`<>:"/\|?*`, r):
			return bad(fmt.Sprintf("holds %q, which Windows or Unix reserves", r))
		}
	}
	if last := name[len(name)-1]; last == '.' || last == ' ' {
		return bad("ends in a dot or a space, which Windows drops")
	}
	if reservedDevice(name) {
		return bad("a device name Windows reserves")
	}
	return nil
}

// reservedDevice reports whether name, or the part of it before its first
// dot, is a device name Windows reserves (trailing spaces before the dot
// are ignored there too: "nul .txt" is NUL).
func reservedDevice(name string) bool {
	stem, _, _ := strings.Cut(name, ".")
	stem = strings.ToUpper(strings.TrimRight(stem, " "))
	switch stem {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(stem) < 4 || (stem[:3] != "COM" && stem[:3] != "LPT") {
		return false
	}
	switch suffix := stem[3:]; suffix {
	case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
		return true
	}
	return false
}

// CheckNewPath checks, with PortableName, the name of every component of
// path that does not exist yet on fsys: those a MkdirAll of path would
// create. Existing components are the caller's choice and are not judged
// (a volume name such as "C:" always exists).
func CheckNewPath(fsys FS, path string) error {
	for p := filepath.Clean(path); ; p = filepath.Dir(p) {
		if _, err := fsys.List(p); err == nil || !errors.Is(err, fs.ErrNotExist) {
			return nil // exists (or cannot be judged: MkdirAll reports it)
		}
		if err := PortableName(filepath.Base(p)); err != nil {
			return err
		}
		if filepath.Dir(p) == p {
			return nil
		}
	}
}
