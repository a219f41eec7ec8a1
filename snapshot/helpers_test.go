package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// segBytes builds a segment's bytes by hand.
type segBytes struct{ buf []byte }

func newSeg(id uint64) *segBytes {
	h := segment.EncodeHeader(segment.Header{ID: id, Created: 1})
	return &segBytes{buf: append([]byte(nil), h[:]...)}
}

func (b *segBytes) ev(entity string, global, seq uint64) *segBytes {
	r := &segment.EventRecord{
		ID:   event.ID{0x01, 0x93, 0, 0, 0, 0, 0x70, 0, 0x80, 0, 0, 0, 0, 0, byte(global >> 8), byte(global)},
		Kind: event.MustCustom(1, 1), Global: global, Sequence: seq,
		Timestamp: int64(global) * 1000, WallMS: uint64(global), Codec: event.CodecRaw,
		Entity: entity, Scope: "scope", Payload: []byte{byte(global)},
	}
	b.buf, _ = segment.AppendEvent(b.buf, r, false, [32]byte{})
	return b
}

func (b *segBytes) marker(typ byte, count uint32, first uint64) *segBytes {
	b.buf = segment.AppendMarker(b.buf, typ, segment.Marker{Count: count, FirstGlobal: first})
	return b
}

func (b *segBytes) zeros(n int) *segBytes {
	b.buf = append(b.buf, make([]byte, n)...)
	return b
}

func (b *segBytes) len() int64 { return int64(len(b.buf)) }

// synced sets the header's sync note to the bytes built so far, as the
// writer's fsync actor does after each fsync.
func (b *segBytes) synced() *segBytes {
	note := segment.EncodeSyncNote(b.len())
	copy(b.buf[segment.SyncNoteOffset:], note[:])
	return b
}

func writeFile(t *testing.T, fs vfs.FS, path string, b []byte) {
	t.Helper()
	require.NoError(t, fs.MkdirAll(filepath.Dir(path)))
	if err := fs.Remove(path); err != nil && !vfs.IsNotExist(err) {
		require.NoError(t, err)
	}
	f, err := fs.Create(path)
	require.NoError(t, err)
	_, err = f.WriteAt(b, 0)
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
	require.NoError(t, fs.SyncDir(filepath.Dir(path)))
}

func readFile(t *testing.T, fs vfs.FS, path string) []byte {
	t.Helper()
	b, err := readSmall(fs, path, 1<<30)
	require.NoError(t, err)
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
