//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || windows)

package vfs

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// lockFile refuses: without a lock that excludes other processes, two of
// them could write one store at once, so this platform opens no store on
// the real file system (MemFS works everywhere).
func lockFile(f *os.File) (io.Closer, error) {
	return nil, fmt.Errorf("vfs: no file locking on this platform: %w", errors.ErrUnsupported)
}
