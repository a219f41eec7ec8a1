//go:build !linux

package vfs

// UnmapRead releases a mapping made by MapRead (none exist on this platform).
func UnmapRead(m []byte) error { return nil }
