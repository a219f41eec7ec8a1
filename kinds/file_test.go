package kinds

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/vfs"
)

var bg = context.Background()

// TestFileKeepsNames: names learned survive a reopen; conflicts are
// refused and change nothing; the file holds exactly the table.
func TestFileKeepsNames(t *testing.T) {
	mem := vfs.NewMem()
	require.NoError(t, mem.MkdirAll("/s"))
	f := OpenFile(mem, "/s", nil)
	tab, err := f.Table(bg)
	require.NoError(t, err)
	assert.Empty(t, tab)
	_, err = mem.Open("/s/" + FileName)
	require.True(t, vfs.IsNotExist(err), "nothing is written before a name is learned")

	require.NoError(t, f.Learn(bg, 0x1002, "player.moved"))
	ops := mem.Ops()
	require.NoError(t, f.Learn(bg, 0x1002, "player.moved"))
	assert.Equal(t, ops, mem.Ops(), "a name already kept costs no write")
	require.ErrorIs(t, f.Learn(bg, 0x1002, "player.walked"), ErrNameMismatch)
	require.ErrorIs(t, f.Learn(bg, 0x1003, "player.moved"), ErrNameMismatch)
	require.NoError(t, f.Learn(bg, 0x2001, "shop.order"))

	want := Table{0x1002: "player.moved", 0x2001: "shop.order"}
	again, err := OpenFile(mem, "/s", nil).Table(bg)
	require.NoError(t, err)
	assert.Equal(t, want, again)
	read, err := ReadFile(mem, "/s")
	require.NoError(t, err)
	assert.Equal(t, want, read)

	f.Close(errors.New("closed"))
	require.NoError(t, f.Learn(bg, 0x1002, "player.moved"), "a kept name still passes")
	require.EqualError(t, f.Learn(bg, 0x1004, "late"), "closed")
}

// TestFileReadOnly: a read-only File learns nothing new, and Reload sees
// what the writing side learned since.
func TestFileReadOnly(t *testing.T) {
	mem := vfs.NewMem()
	require.NoError(t, mem.MkdirAll("/s"))
	w := OpenFile(mem, "/s", nil)
	require.NoError(t, w.Learn(bg, 0x1002, "player.moved"))
	errRO := errors.New("read-only")
	ro := OpenFile(mem, "/s", errRO)
	require.NoError(t, ro.Learn(bg, 0x1002, "player.moved"))
	require.ErrorIs(t, ro.Learn(bg, 0x1003, "player.spoke"), errRO)
	require.NoError(t, w.Learn(bg, 0x1003, "player.spoke"))
	ro.Reload()
	tab, err := ro.Table(bg)
	require.NoError(t, err)
	assert.Equal(t, Table{0x1002: "player.moved", 0x1003: "player.spoke"}, tab)
}

// TestFileDamaged: a damaged file is reported, never written over.
func TestFileDamaged(t *testing.T) {
	mem := vfs.NewMem()
	require.NoError(t, mem.MkdirAll("/s"))
	require.NoError(t, vfs.WriteFileAtomic(mem, "/s", FileName, []byte(`{"format": 1, "kinds": {"0x1002": `)))
	f := OpenFile(mem, "/s", nil)
	_, err := f.Table(bg)
	require.ErrorIs(t, err, ErrNamesCorrupt)
	assert.Contains(t, err.Error(), "/s/"+FileName)
	require.ErrorIs(t, f.Learn(bg, 0x1002, "player.moved"), ErrNamesCorrupt)
	_, err = ReadFile(mem, "/s")
	require.ErrorIs(t, err, ErrNamesCorrupt)
	b := readAll(t, mem, "/s/"+FileName)
	assert.Equal(t, `{"format": 1, "kinds": {"0x1002": `, string(b), "left as it was")
}

// TestFileCrashAtEveryOperation: a crash at any file-system operation of a
// Learn leaves the table before it or after it, never a damaged file;
// once Learn has returned, the name survives any crash.
func TestFileCrashAtEveryOperation(t *testing.T) {
	base := vfs.NewMem()
	require.NoError(t, base.MkdirAll("/s"))
	require.NoError(t, base.SyncDir("/"))
	require.NoError(t, OpenFile(base, "/s", nil).Learn(bg, 0x1002, "player.moved"))
	before := Table{0x1002: "player.moved"}
	after := Table{0x1002: "player.moved", 0x1003: "player.spoke"}

	for k := 0; ; k++ {
		mem := base.CrashClone(vfs.CrashOptions{KeepUnsyncedFraction: 0.5, Seed: uint64(k)})
		mem.SetCrashAfter(k, vfs.CrashOptions{KeepUnsyncedFraction: 0.5, Seed: uint64(k)}, nil)
		err := OpenFile(mem, "/s", nil).Learn(bg, 0x1003, "player.spoke")
		crashed := mem.Crashed()
		if crashed == nil {
			require.NoError(t, err)
			require.Positive(t, k, "the workload made operations")
			break
		}
		got, rerr := ReadFile(crashed, "/s")
		require.NoError(t, rerr, "crash after operation %d", k)
		if err == nil {
			assert.Equal(t, after, got, "crash after operation %d, Learn returned", k)
		} else if !assert.Contains(t, []Table{before, after}, got, "crash after operation %d", k) {
			return
		}
	}
}

func readAll(t *testing.T, fs vfs.FS, path string) []byte {
	t.Helper()
	b, err := readSmall(fs, path)
	require.NoError(t, err)
	return b
}
