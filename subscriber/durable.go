package subscriber

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/vfs"
)

// A durable cursor's position file, Dir/<name>, is 20 bytes, little-endian:
//
//	magic    [8]  "bpcursor" (its last byte is the format version)
//	position u64  the acknowledged global sequence
//	crc      u32  CRC-32C of the 16 bytes before it
//
// It is replaced atomically: written to <name>.tmp, synced, renamed over
// <name>, and the directory synced. A crash leaves the old or the new file,
// never a mix; a file that fails the checks is reported, never guessed at.
const (
	posMagic    = "bpcursor"
	posFileSize = 20
	// MaxCursorName bounds a durable cursor's name.
	MaxCursorName = 128
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func encodePosition(pos uint64) [posFileSize]byte {
	var b [posFileSize]byte
	copy(b[:8], posMagic)
	binary.LittleEndian.PutUint64(b[8:16], pos)
	binary.LittleEndian.PutUint32(b[16:20], crc32.Checksum(b[:16], castagnoli))
	return b
}

func decodePosition(b []byte) (uint64, error) {
	switch {
	case len(b) != posFileSize:
		return 0, fmt.Errorf("%d bytes, want %d", len(b), posFileSize)
	case string(b[:8]) != posMagic:
		return 0, fmt.Errorf("bad magic %q", b[:8])
	case binary.LittleEndian.Uint32(b[16:20]) != crc32.Checksum(b[:16], castagnoli):
		return 0, errors.New("checksum mismatch")
	}
	return binary.LittleEndian.Uint64(b[8:16]), nil
}

// ValidCursorName reports whether name can name a durable cursor: 1 to
// MaxCursorName bytes of ASCII letters, digits, '.', '_' and '-', not
// starting with '.', and a portable file name (vfs.PortableName: not a
// device name Windows reserves, such as "con" or "lpt1.x", nor ending in a
// dot). A refused name's error matches ErrInvalidCursorName, and also
// vfs.ErrNotPortable when that is why.
func ValidCursorName(name string) error {
	if name == "" || len(name) > MaxCursorName || name[0] == '.' {
		return fmt.Errorf("%w: %q", ErrInvalidCursorName, name)
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return fmt.Errorf("%w: %q", ErrInvalidCursorName, name)
		}
	}
	if err := vfs.PortableName(name); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidCursorName, err)
	}
	return nil
}

// loadPosition reads a position file; found is false if there is none.
func loadPosition(fs vfs.FS, path string) (pos uint64, found bool, err error) {
	f, err := fs.Open(path)
	if vfs.IsNotExist(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("batpak: opening cursor file %s: %w", path, err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return 0, false, fmt.Errorf("batpak: reading cursor file %s: %w", path, err)
	}
	if size != posFileSize {
		return 0, false, fmt.Errorf("%w: %s: %d bytes, want %d", ErrCursorCorrupt, path, size, posFileSize)
	}
	var b [posFileSize]byte
	if _, err := f.ReadAt(b[:], 0); err != nil && !errors.Is(err, io.EOF) {
		return 0, false, fmt.Errorf("batpak: reading cursor file %s: %w", path, err)
	}
	pos, err = decodePosition(b[:])
	if err != nil {
		return 0, false, fmt.Errorf("%w: %s: %v", ErrCursorCorrupt, path, err)
	}
	return pos, true, nil
}

// savePosition replaces the position file atomically and durably.
func savePosition(fs vfs.FS, dir, name string, pos uint64) error {
	b := encodePosition(pos)
	if err := vfs.WriteFileAtomic(fs, dir, name, b[:]); err != nil {
		return fmt.Errorf("batpak: saving cursor %s: %w", filepath.Join(dir, name), err)
	}
	return nil
}

// DurableCursor is a named Cursor whose acknowledged position is kept in
// the store and survives Close and crashes: OpenCursor with the same name
// resumes right after the last Ack. Delivery is at-least-once: events
// delivered but not acknowledged before a crash or Close are delivered
// again.
type DurableCursor struct {
	*Cursor
	name      string
	ackSem    chan struct{}
	acked     atomic.Uint64
	closeOnce sync.Once
}

// OpenCursor opens the durable cursor called name on region, at its
// acknowledged position (0 for a new name). One cursor of a name may be
// open at a time (ErrCursorInUse). A position file that fails its checks
// is an error matching ErrCursorCorrupt. If the log now ends before the
// acknowledged position — events acknowledged on write (OnWrite mode) lost
// to a machine crash — the cursor resumes at the log's end.
func (h *Hub) OpenCursor(name string, region event.Region) (*DurableCursor, error) {
	if err := ValidCursorName(name); err != nil {
		return nil, err
	}
	if h.opts.FS == nil {
		return nil, errors.New("batpak: durable cursors need Options.FS")
	}
	if err := h.closed(); err != nil {
		return nil, err
	}
	h.mu.Lock()
	if h.named[name] {
		h.mu.Unlock()
		return nil, fmt.Errorf("%w: %q", ErrCursorInUse, name)
	}
	h.named[name] = true
	h.mu.Unlock()

	var pos uint64
	err := h.opts.Guard(func() error {
		if err := h.opts.FS.MkdirAll(h.opts.Dir); err != nil {
			return fmt.Errorf("batpak: creating %s: %w", h.opts.Dir, err)
		}
		if err := h.opts.FS.SyncDir(filepath.Dir(filepath.Clean(h.opts.Dir))); err != nil {
			return fmt.Errorf("batpak: syncing the parent of %s: %w", h.opts.Dir, err)
		}
		p, _, err := loadPosition(h.opts.FS, filepath.Join(h.opts.Dir, name))
		pos = p
		return err
	})
	if err != nil {
		h.release(name)
		return nil, err
	}
	pos = min(pos, h.opts.Log.Index.LastGlobal())
	d := &DurableCursor{Cursor: newCursor(h, region, pos), name: name, ackSem: make(chan struct{}, 1)}
	d.acked.Store(pos)
	return d, nil
}

func (h *Hub) release(name string) {
	h.mu.Lock()
	delete(h.named, name)
	h.mu.Unlock()
}

// Name is the cursor's name.
func (d *DurableCursor) Name() string { return d.name }

// Acked is the last acknowledged position.
func (d *DurableCursor) Acked() uint64 { return d.acked.Load() }

// Ack records that every event up to and including global sequence pos has
// been handled: it is written durably (atomic replace and fsync) before Ack
// returns, and a reopened cursor resumes after it. pos must not be past
// Position (ErrAckAhead); acknowledging at or below Acked does nothing.
func (d *DurableCursor) Ack(ctx context.Context, pos uint64) error {
	select {
	case d.ackSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-d.ackSem }()
	if err := ctx.Err(); err != nil {
		return err
	}
	if d.closed.Load() {
		return ErrClosed
	}
	if pos > d.Position() {
		return fmt.Errorf("%w: %d > %d", ErrAckAhead, pos, d.Position())
	}
	if pos <= d.acked.Load() {
		return nil
	}
	h := d.hub
	if err := h.opts.Guard(func() error { return savePosition(h.opts.FS, h.opts.Dir, d.name, pos) }); err != nil {
		return err
	}
	d.acked.Store(pos)
	return nil
}

// Close closes the cursor without acknowledging anything more, and frees
// its name. It is idempotent.
func (d *DurableCursor) Close() error {
	d.closeOnce.Do(func() {
		d.Cursor.Close()
		// Wait out an Ack in progress, so a reopen sees its file.
		d.ackSem <- struct{}{}
		d.hub.release(d.name)
		<-d.ackSem
	})
	return nil
}
