package vfs

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPortableName(t *testing.T) {
	for _, ok := range []string{
		"a", "orders-projection", "v1.2.3", "x.tmp", "café", "日本語", "a b", ".hidden",
		"com", "com10", "lpt", "console", "nul_", "auxiliary", "con-1", "CONSOLE.txt",
		strings.Repeat("x", MaxNameBytes),
	} {
		assert.NoError(t, PortableName(ok), "%q", ok)
	}
	for _, bad := range []string{
		"", ".", "..",
		strings.Repeat("x", MaxNameBytes+1),
		"a/b", `a\b`, "a:b", "a<b", "a>b", `a"b`, "a|b", "a?b", "a*b",
		"a\x00b", "a\nb", "a\x1fb", "a\x7fb", "\xff",
		"a.", "a ", "a..", "...",
		"con", "CON", "Con", "nul", "prn", "aux", "nul.txt", "con.tar.gz", "NUL .txt", "aux ",
		"com1", "COM9", "com0", "lpt1", "LPT9.log", "com¹", "LPT³", "conin$", "CONOUT$",
	} {
		err := PortableName(bad)
		assert.ErrorIs(t, err, ErrNotPortable, "%q", bad)
	}
	err := PortableName("nul.txt")
	require.Error(t, err)
	assert.Equal(t, `vfs: not a portable file name: "nul.txt": a device name Windows reserves`, err.Error())
}

func TestCheckNewPath(t *testing.T) {
	mem := NewMem()
	require.NoError(t, mem.MkdirAll("/data/aux")) // existing components are the caller's choice
	assert.NoError(t, CheckNewPath(mem, "/data/aux/store"))
	assert.NoError(t, CheckNewPath(mem, "/data/aux"))
	assert.NoError(t, CheckNewPath(mem, "/data/new/store"))
	assert.ErrorIs(t, CheckNewPath(mem, "/data/con/store"), ErrNotPortable)
	assert.ErrorIs(t, CheckNewPath(mem, "/data/new/store."), ErrNotPortable)
	assert.ErrorIs(t, CheckNewPath(mem, filepath.Join("/data", "a|b", "store")), ErrNotPortable)
}
