//go:build windows

package vfs

import (
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

// openFile opens name as os.OpenFile does, but shares it for deletion too:
// the store renames over and removes files that a reader may still have
// open (compaction's replaced segments, CHECKPOINT, cursor files), which
// Windows refuses unless every open handle allows it. perm is ignored, as
// os.OpenFile does except for the read-only attribute: access is governed
// by the ACL new files inherit from their directory.
func openFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	access := uint32(windows.GENERIC_READ)
	if flag&(os.O_WRONLY|os.O_RDWR) != 0 {
		access |= windows.GENERIC_WRITE
	}
	var disposition uint32
	switch {
	case flag&(os.O_CREATE|os.O_EXCL) == os.O_CREATE|os.O_EXCL:
		disposition = windows.CREATE_NEW
	case flag&os.O_CREATE != 0:
		disposition = windows.OPEN_ALWAYS
	default:
		disposition = windows.OPEN_EXISTING
	}
	share := uint32(windows.FILE_SHARE_READ | windows.FILE_SHARE_WRITE | windows.FILE_SHARE_DELETE)
	h, err := windows.CreateFile(p, access, share, nil, disposition, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(h), name), nil
}

// syncDir only checks that dir exists: Windows gives programs no way to
// fsync a directory. NTFS journals directory changes (creates, renames,
// removes) itself, but not necessarily by the time the call returns, so on
// Windows a power loss may undo a just-made entry (docs/TUNING.md).
func syncDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return &os.PathError{Op: "sync", Path: dir, Err: windows.ERROR_DIRECTORY}
	}
	return nil
}

// modesEnforced: Windows has ACLs, not permission bits; the bits os.Stat
// reports say nothing about who else may read a file.
const modesEnforced = false
