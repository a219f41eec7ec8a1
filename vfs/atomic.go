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

// MkdirAllDurable creates dir and any missing parents, as MkdirAll does,
// and makes the new entries durable: it syncs the parent of every
// directory it created, the deepest first, and the parent of dir even if
// dir existed (a caller may have created it without syncing). Syncing only
// dir's parent would leave a crash free to drop a higher new directory,
// and everything below it.
func MkdirAllDurable(fs FS, dir string) error {
	dir = filepath.Clean(dir)
	var created []string
	for p := dir; ; p = filepath.Dir(p) {
		if _, err := fs.List(p); err == nil {
			break // exists: so do its parents
		}
		created = append(created, p)
		if filepath.Dir(p) == p {
			break
		}
	}
	if err := fs.MkdirAll(dir); err != nil {
		return err
	}
	if len(created) == 0 || created[0] != dir {
		created = append([]string{dir}, created...)
	}
	for _, p := range created {
		if parent := filepath.Dir(p); parent != p {
			if err := fs.SyncDir(parent); err != nil {
				return err
			}
		}
	}
	return nil
}
