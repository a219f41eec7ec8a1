package keyring

import (
	"fmt"
	"path/filepath"
	"slices"
)

// Shred destroys entity's keys: its current key, if it has one, and every
// key in keys (the keys its events name, which the store collects from the
// log) that the keyset still holds. It rewrites the keyset file without
// them — a temporary file, fsynced, renamed over the keyset, the directory
// fsynced — and only then forgets them in memory; the keyset file's old
// bytes go with the old file. A crash leaves the old keyset or the new
// one, never a part, and never loses another key. It returns how many
// keys it destroyed; the entity's next append gets a fresh key.
//
// An error after the rename (the directory fsync) leaves the keys gone
// from memory and, on disk, gone or not: the keyring fails (ErrFailed) and
// a Shred after reopening finishes the job.
func (k *Keyring) Shred(entity string, keys []uint64) (int, error) {
	k.growMu.Lock()
	defer k.growMu.Unlock()
	if k.readOnly {
		return 0, fmt.Errorf("batpak: the keyset is open read-only")
	}
	if k.failed != nil {
		return 0, k.failed
	}
	k.mu.RLock()
	gone := map[uint64]struct{}{}
	if dk := k.byEntity[entity]; dk != nil {
		gone[dk.n] = struct{}{}
	}
	for _, n := range keys {
		if _, ok := k.wrapped[n]; ok {
			gone[n] = struct{}{}
		}
	}
	kept := make([]wrappedKey, 0, len(k.wrapped))
	for n, w := range k.wrapped {
		if _, g := gone[n]; !g {
			kept = append(kept, wrappedKey{n: n, wrapped: w})
		}
	}
	next := k.next
	k.mu.RUnlock()
	if len(gone) == 0 {
		return 0, nil
	}
	slices.SortFunc(kept, func(a, b wrappedKey) int { return cmpUint(a.n, b.n) })
	b := appendBlocks(encodeHeader(k.check), next, kept)
	renamed, err := k.replace(b)
	if !renamed {
		return 0, err
	}
	k.mu.Lock()
	for n := range gone {
		delete(k.wrapped, n)
		delete(k.aeads, n)
	}
	delete(k.byEntity, entity)
	k.mu.Unlock()
	k.pool = slices.DeleteFunc(k.pool, func(n uint64) bool { _, g := gone[n]; return g })
	return len(gone), err
}

// replace puts b in place of the keyset file: the temporary file written
// and fsynced, the open file closed (so no descriptor keeps the old bytes
// alive), the rename, the directory fsync; then the new file is opened for
// later blocks. Called with growMu held; a failure is sticky from closing
// the open file on (the file on disk may then be either). renamed says the
// new file took the keyset's name.
func (k *Keyring) replace(b []byte) (renamed bool, err error) {
	tmp := filepath.Join(k.dir, TempName)
	_ = k.fs.Remove(tmp) // a leftover, if any; Create reports a real problem
	f, err := k.fs.Create(tmp)
	if err != nil {
		return false, err
	}
	_, err = f.WriteAt(b, 0)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = k.fs.Remove(tmp)
		return false, fmt.Errorf("batpak: writing the new keyset: %w", err)
	}
	name := filepath.Join(k.dir, Name)
	err = k.f.Close()
	k.f = nil
	if err != nil {
		return false, k.fail(err)
	}
	if err := k.fs.Rename(tmp, name); err != nil {
		return false, k.fail(err)
	}
	if err := k.fs.SyncDir(k.dir); err != nil {
		return true, k.fail(err)
	}
	if k.f, err = k.fs.OpenRW(name); err != nil {
		return true, k.fail(err)
	}
	k.size = int64(len(b))
	return true, nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
