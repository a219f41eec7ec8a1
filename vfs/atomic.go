package vfs

import "path/filepath"

// WriteFileAtomic replaces dir/name with b so that a crash leaves either
// the old contents or the new, never a part: b goes to a temporary file
// (name + ".tmp", replacing a leftover of an earlier crash), which is
// synced, renamed over dir/name, and then the directory is synced.
func WriteFileAtomic(fs FS, dir, name string, b []byte) error {
	tmp := filepath.Join(dir, name+".tmp")
	_ = fs.Remove(tmp) // a leftover, if any; Create reports a real problem
	f, err := fs.Create(tmp)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(b, 0)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fs.Rename(tmp, filepath.Join(dir, name))
	}
	if err == nil {
		err = fs.SyncDir(dir)
	}
	return err
}
