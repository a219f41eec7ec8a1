package vfs

import (
	"bytes"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
)

// The MemFS queries an Auditor asks of its mirror. Each takes the MemFS
// lock itself.

// exists reports whether name is a current entry.
func (m *MemFS) exists(name string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, err := m.lookup("stat", name)
	return err == nil
}

// node returns name's node, or nil.
func (m *MemFS) node(name string) *memNode {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n, err := m.lookup("stat", name)
	if err != nil {
		return nil
	}
	return n
}

// importDir adds the directory name, and any missing parents, as durable
// entries: they existed before the mirror met them. It counts no operation.
func (m *MemFS) importDir(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.importDirLocked(splitPath(name))
}

func (m *MemFS) importDirLocked(parts []string) *memNode {
	d := m.root
	for _, p := range parts {
		child, ok := d.children[p]
		if !ok {
			child = newDirNode()
			d.children[p] = child
			d.syncedChildren[p] = child
		}
		if !child.isDir {
			return nil
		}
		d = child
	}
	return d
}

// importFile adds the file name holding data, all of it durable, under a
// durable entry.
func (m *MemFS) importFile(name string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	parts := splitPath(name)
	if len(parts) == 0 {
		return
	}
	d := m.importDirLocked(parts[:len(parts)-1])
	if d == nil {
		return
	}
	base := parts[len(parts)-1]
	if _, ok := d.children[base]; ok {
		return
	}
	n := &memNode{data: slices.Clone(data), synced: slices.Clone(data)}
	d.children[base] = n
	d.syncedChildren[base] = n
}

// unsynced reports the first range of name's data written since its last
// Sync, if any.
func (m *MemFS) unsynced(name string) (lo, hi int64, ok bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n, err := m.lookup("stat", name)
	if err != nil || n.isDir || len(n.dirty) == 0 {
		return 0, 0, false
	}
	return n.dirty[0].lo, n.dirty[0].hi, true
}

// durability says why name would not survive a power loss as it is now
// ("" if it would): an entry on its path not durable, or unsynced data.
func (m *MemFS) durability(name string) string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	d := m.root
	parts := splitPath(name)
	if len(parts) == 0 {
		return "not a file"
	}
	dirPath := "/"
	for i, p := range parts {
		child, ok := d.children[p]
		if !ok {
			return "it does not exist"
		}
		if d.syncedChildren[p] != child {
			return fmt.Sprintf("the entry %q of directory %s is not durable (no directory fsync since it changed)", p, dirPath)
		}
		if i < len(parts)-1 && !child.isDir {
			return fmt.Sprintf("%q is not a directory", p)
		}
		d = child
		dirPath = path.Join(dirPath, p)
	}
	if d.isDir {
		return "not a file"
	}
	if len(d.dirty) > 0 {
		return fmt.Sprintf("bytes %d..%d were never fsynced", d.dirty[0].lo, d.dirty[0].hi)
	}
	return ""
}

// filesBelow lists the current files below dir, recursively, as paths
// joined to dir.
func (m *MemFS) filesBelow(dir string) ([]string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n, err := m.lookup("open", dir)
	if err != nil {
		return nil, err
	}
	var out []string
	var walk func(string, *memNode)
	walk = func(p string, n *memNode) {
		for _, name := range slices.Sorted(maps.Keys(n.children)) {
			child := n.children[name]
			cp := p + "/" + name
			if child.isDir {
				walk(cp, child)
			} else {
				out = append(out, cp)
			}
		}
	}
	walk(strings.TrimSuffix(dir, "/"), n)
	return out, nil
}

// findDurable looks for b in the synced contents of the files reachable
// through durable entries, returning where it was found.
func (m *MemFS) findDurable(b []byte) (string, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return find(m.root, "", func(n *memNode) map[string]*memNode { return n.syncedChildren },
		func(n *memNode) bool { return bytes.Contains(n.synced, b) })
}

// findCurrent looks for b in the current contents of the current files,
// and says whether the file holding it has it synced too.
func (m *MemFS) findCurrent(b []byte) (where string, synced, ok bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	where, ok = find(m.root, "", func(n *memNode) map[string]*memNode { return n.children },
		func(n *memNode) bool { return bytes.Contains(n.data, b) })
	if !ok {
		return "", false, false
	}
	n, err := m.lookup("stat", where)
	return where, err == nil && bytes.Contains(n.synced, b), true
}

// find walks the tree through entries (current or durable) and returns the
// path of the first file for which has is true.
func find(d *memNode, p string, entries func(*memNode) map[string]*memNode, has func(*memNode) bool) (string, bool) {
	for _, name := range slices.Sorted(maps.Keys(entries(d))) {
		child := entries(d)[name]
		cp := p + "/" + name
		if child.isDir {
			if where, ok := find(child, cp, entries, has); ok {
				return where, true
			}
		} else if has(child) {
			return cp, true
		}
	}
	return "", false
}
