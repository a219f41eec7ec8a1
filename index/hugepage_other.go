//go:build !linux

package index

// hugePages is a no-op where transparent huge pages cannot be asked for.
func hugePages[T any](s []T) {}
