package snapshot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"path/filepath"

	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// copySegment copies the first size bytes of segment file src (all of it
// if size < 0) to a new file dst, with a sync note covering the copy's
// end, syncs it and returns its manifest entry.
func copySegment(ctx context.Context, fs vfs.FS, src, dst string, size int64) (File, error) {
	in, err := fs.Open(src)
	if err != nil {
		return File{}, err
	}
	defer in.Close()
	if size < 0 {
		if size, err = in.Size(); err != nil {
			return File{}, err
		}
	}
	if size < segment.HeaderSize {
		return File{}, fmt.Errorf("%w: segment of %d bytes", segment.ErrTorn, size)
	}
	out, err := fs.Create(dst)
	if err != nil {
		return File{}, err
	}
	h := sha256.New()
	err = copyRange(ctx, in, out, size, h)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return File{}, err
	}
	return File{Name: filepath.Base(dst), Size: size, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// copyFile copies the small file src, if it exists (ok), to a new file
// dst, syncs it and returns its manifest entry.
func copyFile(ctx context.Context, fs vfs.FS, src, dst string) (f File, ok bool, err error) {
	in, err := fs.Open(src)
	if vfs.IsNotExist(err) {
		return File{}, false, nil
	}
	if err != nil {
		return File{}, false, err
	}
	defer in.Close()
	size, err := in.Size()
	if err != nil {
		return File{}, false, err
	}
	b := make([]byte, size)
	if n, err := in.ReadAt(b, 0); n < len(b) {
		return File{}, false, fmt.Errorf("%w: read %d of %d bytes: %v", io.ErrUnexpectedEOF, n, size, err)
	}
	if err := ctx.Err(); err != nil {
		return File{}, false, err
	}
	out, err := fs.Create(dst)
	if err != nil {
		return File{}, false, err
	}
	_, err = out.WriteAt(b, 0)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return File{}, false, err
	}
	sum := sha256.Sum256(b)
	return File{Name: filepath.Base(dst), Size: size, SHA256: hex.EncodeToString(sum[:])}, true, nil
}

// copyRange copies in's first size bytes to out, rewriting the sync note,
// and feeds what it writes to h.
func copyRange(ctx context.Context, in, out vfs.File, size int64, h hash.Hash) error {
	buf := make([]byte, min(chunk, size))
	for off := int64(0); off < size; {
		if err := ctx.Err(); err != nil {
			return err
		}
		c := buf[:min(int64(len(buf)), size-off)]
		n, err := in.ReadAt(c, off)
		if n < len(c) {
			if err == nil || errors.Is(err, io.EOF) {
				err = fmt.Errorf("%w: the file ends at %d, %d bytes were expected", io.ErrUnexpectedEOF, off+int64(n), size)
			}
			return err
		}
		if off == 0 {
			// The copy is synced whole: its note says so (the source's
			// note may lag, or be rewritten while it is read).
			note := segment.EncodeSyncNote(size)
			copy(c[segment.SyncNoteOffset:], note[:])
		}
		if _, err := out.WriteAt(c, off); err != nil {
			return err
		}
		h.Write(c)
		off += int64(len(c))
	}
	return nil
}

// writeWhole writes b as the new file name, synced, and returns its entry.
func writeWhole(fs vfs.FS, name string, b []byte) (File, error) {
	out, err := fs.Create(name)
	if err != nil {
		return File{}, err
	}
	_, err = out.WriteAt(b, 0)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return File{}, err
	}
	sum := sha256.Sum256(b)
	return File{Name: filepath.Base(name), Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])}, nil
}
