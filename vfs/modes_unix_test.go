//go:build unix

package vfs

import (
	"syscall"
	"testing"
)

// withUmask runs f with the process's umask set to mask, so the modes a
// file system chooses show unfiltered. The umask is process-wide: callers
// are not parallel.
func withUmask(t *testing.T, mask int, f func()) {
	old := syscall.Umask(mask)
	defer syscall.Umask(old)
	f()
}

func TestOSModes(t *testing.T) {
	withUmask(t, 0, func() {
		t.Run("Default", func(t *testing.T) { checkCreatedModes(t, OS, t.TempDir(), PrivateModes) })
		t.Run("WithModes", func(t *testing.T) { checkCreatedModes(t, WithModes(OS, shared), t.TempDir(), shared) })
		t.Run("FaultyOS", func(t *testing.T) { checkCreatedModes(t, WithModes(NewFaulty(OS), shared), t.TempDir(), shared) })
		t.Run("AuditorOS", func(t *testing.T) {
			checkCreatedModes(t, WithModes(NewAuditor(OS, AuditOptions{}), shared), t.TempDir(), shared)
		})
	})
}
