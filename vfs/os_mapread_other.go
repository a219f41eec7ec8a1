//go:build !(linux || darwin)

package vfs

// UnmapRead releases a mapping made by MapRead. Files of the OS file system
// are not mapped on this platform (reads use ReadAt), so there are none.
func UnmapRead(m []byte) error { return nil }
