package vfs

import (
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shared is a group-shared choice of modes, distinct from PrivateModes.
var shared = Modes{File: 0o640, Dir: 0o750}

// modeMakers are the file systems whose modes tests can see whatever the
// umask: the in-memory one and wrappers around it. The real one is tested
// with the umask cleared (modes_unix_test.go).
var modeMakers = []struct {
	name string
	make func() FS
}{
	{"Mem", func() FS { return NewMem() }},
	{"FaultyMem", func() FS { return NewFaulty(NewMem()) }},
	{"AuditorMem", func() FS { return NewAuditor(NewMem(), AuditOptions{}) }},
}

// checkCreatedModes creates a directory (with a new parent), a file and a
// lock file through fsys and checks the modes each got.
func checkCreatedModes(t *testing.T, fsys FS, root string, want Modes) {
	t.Helper()
	dir := filepath.Join(root, "parent", "store")
	require.NoError(t, fsys.MkdirAll(dir))
	f, err := fsys.Create(filepath.Join(dir, "data"))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	l, err := fsys.Lock(filepath.Join(dir, "LOCK"))
	require.NoError(t, err)
	require.NoError(t, l.Close())

	for _, c := range []struct {
		path string
		want fs.FileMode
	}{
		{filepath.Join(root, "parent"), fs.ModeDir | want.Dir},
		{dir, fs.ModeDir | want.Dir},
		{filepath.Join(dir, "data"), want.File},
		{filepath.Join(dir, "LOCK"), want.File},
	} {
		got, err := Mode(fsys, c.path)
		require.NoError(t, err, c.path)
		assert.Equal(t, c.want, got, "%s: got %v, want %v", c.path, got, c.want)
	}
}

func TestModesPrivateByDefault(t *testing.T) {
	for _, m := range modeMakers {
		t.Run(m.name, func(t *testing.T) {
			checkCreatedModes(t, m.make(), "/r", PrivateModes)
		})
	}
}

func TestWithModesChoosesModes(t *testing.T) {
	for _, m := range modeMakers {
		t.Run(m.name, func(t *testing.T) {
			checkCreatedModes(t, WithModes(m.make(), shared), "/r", shared)
		})
	}
}

// A view made by WithModes is the same file system: what it creates the
// original sees, and the original's counts and state include its work.
func TestWithModesSharesState(t *testing.T) {
	t.Run("Mem", func(t *testing.T) {
		mem := NewMem()
		view := WithModes(mem, shared)
		require.NoError(t, view.MkdirAll("/db"))
		_, err := view.Create("/db/a")
		require.NoError(t, err)
		names, err := mem.List("/db")
		require.NoError(t, err)
		assert.Equal(t, []string{"a"}, names)
		assert.Equal(t, 2, mem.Ops())
		l, err := view.Lock("/db/LOCK")
		require.NoError(t, err)
		_, err = mem.Lock("/db/LOCK")
		assert.ErrorIs(t, err, ErrLocked, "a lock taken through the view holds for the original")
		require.NoError(t, l.Close())
	})
	t.Run("Faulty", func(t *testing.T) {
		ffs := NewFaulty(NewMem())
		ffs.Inject(Rule{Op: OpCreate, Nth: 2})
		view := WithModes(ffs, shared)
		require.NoError(t, view.MkdirAll("/db"))
		_, err := view.Create("/db/a")
		require.NoError(t, err)
		_, err = view.Create("/db/b")
		assert.ErrorIs(t, err, ErrInjected, "the original's rules apply to the view")
		assert.Equal(t, 2, ffs.Count(OpCreate))
		assert.Equal(t, 1, ffs.Count(OpMkdir))
	})
	t.Run("Auditor", func(t *testing.T) {
		a := NewAuditor(NewMem(), AuditOptions{})
		view := WithModes(a, shared)
		require.NoError(t, view.MkdirAll("/db"))
		f, err := view.Create("/db/a")
		require.NoError(t, err)
		_, err = f.WriteAt([]byte("x"), 0)
		require.NoError(t, err)
		require.NoError(t, view.Rename("/db/a", "/db/b")) // unsynced data renamed: a violation
		assert.Len(t, a.Violations(), 1, "the view's operations are audited by the original")
	})
}

func TestCrashCloneKeepsModes(t *testing.T) {
	mem := NewMem()
	view := WithModes(mem, shared)
	require.NoError(t, view.MkdirAll("/db"))
	f, err := view.Create("/db/a")
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, mem.SyncDir("/db"))
	require.NoError(t, mem.SyncDir("/"))
	after := mem.CrashClone(CrashOptions{})
	got, err := after.Mode("/db/a")
	require.NoError(t, err)
	assert.Equal(t, shared.File, got)
	got, err = after.Mode("/db")
	require.NoError(t, err)
	assert.Equal(t, fs.ModeDir|shared.Dir, got)
}

// plainFS hides every optional interface of the FS it embeds, as a user's
// wrapper that forwards only FS would.
type plainFS struct{ FS }

func TestModesUnknownOnPlainFS(t *testing.T) {
	mem := NewMem()
	require.NoError(t, mem.MkdirAll("/db"))
	p := plainFS{mem}
	assert.Equal(t, FS(p), WithModes(p, shared), "WithModes leaves a file system that cannot choose modes as it is")
	_, err := Mode(p, "/db")
	assert.ErrorIs(t, err, ErrModesUnknown)
	loose, err := LooseModes(p, "/db", PrivateModes)
	assert.ErrorIs(t, err, ErrModesUnknown)
	assert.Empty(t, loose)
}

func TestLooseModes(t *testing.T) {
	mem := NewMem()
	require.NoError(t, WithModes(mem, shared).MkdirAll("/db/cursors"))
	for name, modes := range map[string]Modes{
		"/db/private":        PrivateModes,
		"/db/group":          shared,
		"/db/cursors/world":  {File: 0o644, Dir: 0o755},
		"/db/cursors/owner+": {File: 0o700, Dir: 0o700}, // owner bits are not judged
	} {
		f, err := WithModes(mem, modes).Create(name)
		require.NoError(t, err)
		require.NoError(t, f.Close())
	}

	loose, err := LooseModes(mem, "/db", shared)
	require.NoError(t, err)
	require.Len(t, loose, 1)
	assert.Equal(t, "/db/cursors/world", loose[0].Path)
	assert.Equal(t, "file /db/cursors/world has mode 0644, which grants group or other users others r (expected at most 0640)", loose[0].String())

	loose, err = LooseModes(mem, "/db", PrivateModes)
	require.NoError(t, err)
	var paths []string
	for _, l := range loose {
		paths = append(paths, l.Path)
	}
	assert.Equal(t, []string{"/db", "/db/cursors", "/db/cursors/world", "/db/group"}, paths)
	assert.Contains(t, loose[0].String(), "directory /db has mode 0750, which grants group or other users group rx (expected at most 0700)")

	_, err = LooseModes(mem, "/missing", PrivateModes)
	assert.True(t, IsNotExist(err), "a missing directory is an error: %v", err)
}
