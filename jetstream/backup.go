package jetstream

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/snapshot"
	"github.com/batpak-go/batpak/vfs"
)

// Snapshot backs the stream up into the directory dest as a store of the
// embedded format with a manifest, which batpak.VerifySnapshot checks and
// batpak.OpenReadOnly (or Open, or the batpak-jetstream copy command, to
// restore it into a stream) opens. It holds exactly the events up to the
// stream's last one when Snapshot starts (Manifest.LastGlobal; the
// stream's sequences are the copy's global sequences, a stream having no
// gaps), each atomic batch as one, with their ids, correlations,
// causations and clock readings; the chain hashes are the copy's own (a
// hash covers its global sequence in the embedded format). dest must be
// missing or an empty directory (batpak.ErrSnapshotNotEmpty). On failure
// what Snapshot created in dest is removed.
func (s *Store) Snapshot(ctx context.Context, dest string) (man snapshot.Manifest, err error) {
	if err := s.check(); err != nil {
		return man, err
	}
	if dest == "" {
		return man, fmt.Errorf("%w: empty snapshot destination", batpak.ErrInvalidOption)
	}
	if err := snapshot.CheckEmpty(vfs.OS, dest); err != nil {
		return man, err
	}
	_, statErr := os.Stat(dest)
	defer func() {
		if err != nil { // leave dest as it was: missing, or empty
			if os.IsNotExist(statErr) {
				_ = os.RemoveAll(dest)
			} else if names, lerr := vfs.OS.List(dest); lerr == nil {
				for _, n := range names {
					_ = os.RemoveAll(filepath.Join(dest, n))
				}
			}
		}
	}()
	head, err := s.head(ctx)
	if err != nil {
		return man, err
	}
	dst, err := batpak.Open(dest, batpak.WithDurability(batpak.OnWrite), batpak.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		return man, err
	}
	im, err := dst.Importer(batpak.OnWrite)
	if err == nil {
		err = copyEvents(ctx, s, &CopyReport{Through: head}, im, CopyOptions{}) // unit by unit: exactly up to head
	}
	if err == nil {
		err = dst.Sync(ctx)
	}
	last := dst.Stats().LastGlobal
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return man, err
	}
	return snapshot.Seal(ctx, vfs.OS, dest, "jetstream stream "+s.opts.Stream, s.opts.Clock(), last)
}
