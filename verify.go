package batpak

import (
	"context"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/vfs"
)

// VerifyReport is what Verify found: counts, and the first problem located
// by segment and offset (nil if none).
type VerifyReport = event.VerifyReport

// Verify checks the store's files: frame CRCs, record structure, global
// order, batch markers, and every entity's sequences and hash chain. It
// reads only, on the caller's goroutine.
func (s *Store) Verify(ctx context.Context) (VerifyReport, error) {
	if err := s.readable(ctx); err != nil {
		return VerifyReport{}, err
	}
	s.maint.Lock() // never see a compaction half done
	defer s.maint.Unlock()
	return reader.Verify(ctx, s.cfg.fs, s.dir, nil)
}

// VerifyDir checks a store directory that need not be open — or that
// another process has open for writing: it takes no lock, changes nothing,
// and checks every byte present, frames that process has written and not
// yet synced included. progress, if not nil, is called with bytes checked
// and total. A directory that is not a batpak store's (a batpak-rust
// store, say, which `batpak import` converts) is refused with a
// *ForeignDirError rather than reported as an empty store.
func VerifyDir(ctx context.Context, dir string, progress func(done, total int64)) (VerifyReport, error) {
	return reader.Verify(ctx, vfs.OS, dir, progress)
}
