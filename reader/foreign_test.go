package reader

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

func TestIsStoreFile(t *testing.T) {
	for _, name := range []string{
		"LOCK", "CHECKPOINT", "CHECKPOINT.tmp", "SEQUENCE", "SEQUENCE.tmp", "MANIFEST.json", "MANIFEST.json.tmp",
		"SALVAGE.json", "SALVAGE.json.tmp",
		segment.FileName(1), segment.FileName(0xabc), segment.CompactTempName(7),
		"0123456789abcdef0123456789abcdef.bpc", "0123456789abcdef0123456789abcdef.tmp-a1b2c3-4",
		".DS_Store", ".nfs0001",
	} {
		assert.True(t, IsStoreFile(name), name)
	}
	for _, name := range []string{
		"notes.txt", "000001.fbat", "index.ckpt", "1.seg", "report.compact", "lock", "CHECKPOINT.bak",
		"0123456789abcdef0123456789ABCDEF.bpc", "x.tmp-1", "cursors",
	} {
		assert.False(t, IsStoreFile(name), name)
	}
}

func TestCheckDir(t *testing.T) {
	mem := vfs.NewMem()
	require.NoError(t, CheckDir(mem, "/absent"), "a directory yet to be created")
	require.NoError(t, mem.MkdirAll("/db/cursors"))
	require.NoError(t, CheckDir(mem, "/db"))

	write := func(name string) {
		f, err := mem.Create(filepath.Join("/db", name))
		require.NoError(t, err)
		require.NoError(t, f.Close())
	}
	write("notes.txt")
	err := CheckDir(mem, "/db")
	var fe *event.ForeignDirError
	require.ErrorAs(t, err, &fe)
	assert.False(t, fe.BatpakRust)
	assert.Equal(t, []string{"notes.txt"}, fe.Names)

	for i := range 7 {
		write(segmentName(i))
	}
	err = CheckDir(mem, "/db")
	require.ErrorAs(t, err, &fe)
	assert.True(t, fe.BatpakRust, "batpak-rust's files decide the message even beside others")
	assert.ErrorIs(t, err, event.ErrBatpakRustStore)
	assert.Len(t, fe.Names, maxForeignNames+1, "the first few, then a count")
	assert.Equal(t, "… 2 more", fe.Names[maxForeignNames])
}

func segmentName(i int) string { return "00000" + string(rune('1'+i)) + ".fbat" }
