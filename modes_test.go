package batpak_test

import (
	"bytes"
	"context"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/subscriber"
	"github.com/batpak-go/batpak/vfs"
)

// Tests of issue "private by default": the modes the store gives what it
// creates, the warning about loose modes on open, and portable names.
// The same checks on the real disk, with the umask cleared, are in
// modes_unix_test.go.

// useStore opens a store in dir on fsys with opts, appends an event, opens
// and acknowledges a durable cursor, takes a snapshot into snap (if not
// empty) and closes the store: every kind of file a store creates.
func useStore(t *testing.T, fsys vfs.FS, dir, snap string, opts ...batpak.Option) {
	t.Helper()
	ctx := context.Background()
	opts = append([]batpak.Option{batpak.WithFS(fsys), batpak.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	s, err := batpak.Open(dir, opts...)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	r, err := s.Append(ctx, event.MustCoordinate("player:alice", "room:hall"), event.MustCustom(1, 1), []byte("x"))
	require.NoError(t, err)
	c, err := s.DurableCursor("reader", event.AllEvents())
	require.NoError(t, err)
	_, err = c.Next(ctx)
	require.NoError(t, err)
	require.NoError(t, c.Ack(ctx, r.Global))
	require.NoError(t, c.Close())
	if snap != "" {
		_, err = s.Snapshot(ctx, snap)
		require.NoError(t, err)
	}
}

// checkTreeModes checks that every file and directory under each root has
// exactly the modes want (and that there is at least one file of each).
func checkTreeModes(t *testing.T, fsys vfs.FS, want vfs.Modes, roots ...string) {
	t.Helper()
	for _, root := range roots {
		var files, dirs int
		var walk func(p string)
		walk = func(p string) {
			m, err := vfs.Mode(fsys, p)
			require.NoError(t, err, p)
			if m.IsDir() {
				dirs++
				assert.Equal(t, fs.ModeDir|want.Dir, m, "directory %s", p)
				names, err := fsys.List(p)
				require.NoError(t, err)
				for _, n := range names {
					walk(filepath.Join(p, n))
				}
				return
			}
			files++
			assert.Equal(t, want.File, m, "file %s", p)
		}
		walk(root)
		assert.Positive(t, files, "%s holds no file", root)
		assert.Positive(t, dirs, "%s holds no directory", root)
	}
}

func TestStoreFilesPrivateByDefault(t *testing.T) {
	mem := vfs.NewMem()
	useStore(t, mem, "/data/db", "/backups/monday")
	checkTreeModes(t, mem, vfs.PrivateModes, "/data", "/backups")
}

func TestWithFileModeForASharedGroup(t *testing.T) {
	mem := vfs.NewMem()
	group := vfs.Modes{File: 0o640, Dir: 0o750}
	useStore(t, mem, "/data/db", "/backups/monday", batpak.WithFileMode(group.File, group.Dir))
	checkTreeModes(t, mem, group, "/data", "/backups")
}

func TestWithFileModeRefusesModesTheStoreCannotUse(t *testing.T) {
	for _, m := range []struct{ files, dirs fs.FileMode }{
		{0o400, 0o700},                 // the owner cannot write its files
		{0o600, 0o600},                 // nor enter its directories
		{0o600 | fs.ModeSetuid, 0o700}, // permission bits only
		{0o600, 0o700 | fs.ModeSticky},
	} {
		_, err := batpak.Open("/db", batpak.WithFS(vfs.NewMem()), batpak.WithFileMode(m.files, m.dirs))
		assert.ErrorIs(t, err, batpak.ErrInvalidOption, "%04o/%04o", uint32(m.files), uint32(m.dirs))
	}
}

// An existing store whose files are open to others opens, keeps its modes,
// and says so once in the log.
func TestOpenWarnsAboutLooseModesAndKeepsThem(t *testing.T) {
	mem := vfs.NewMem()
	world := vfs.Modes{File: 0o644, Dir: 0o755}
	useStore(t, mem, "/db", "", batpak.WithFileMode(world.File, world.Dir))

	var logs bytes.Buffer
	s, err := batpak.Open("/db", batpak.WithFS(mem), batpak.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	require.NoError(t, s.Close())

	out := logs.String()
	assert.Equal(t, 1, strings.Count(out, "level=WARN"), out)
	assert.Contains(t, out, "files of the store are open to other users")
	assert.Contains(t, out, "directory /db has mode 0755, which grants group or other users group rx and others rx (expected at most 0700)")
	// Nothing existing changed (files written afresh, such as CHECKPOINT
	// on Close, get the modes of the store that writes them).
	names, err := mem.List("/db")
	require.NoError(t, err)
	for _, p := range append([]string{"/db", "/db/cursors", "/db/cursors/reader"}, names...) {
		if !strings.HasPrefix(p, "/") {
			if !strings.HasSuffix(p, ".seg") && p != "LOCK" {
				continue
			}
			p = filepath.Join("/db", p)
		}
		m, err := mem.Mode(p)
		require.NoError(t, err)
		if m.IsDir() {
			assert.Equal(t, world.Dir, m.Perm(), p)
		} else {
			assert.Equal(t, world.File, m.Perm(), p)
		}
	}

	// The same store opened with the modes it has: nothing to say.
	logs.Reset()
	s, err = batpak.Open("/db", batpak.WithFS(mem), batpak.WithFileMode(world.File, world.Dir),
		batpak.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	require.NoError(t, s.Close())
	assert.NotContains(t, logs.String(), "level=WARN")
}

func TestNamesThatBecomeFilesMustBePortable(t *testing.T) {
	ctx := context.Background()
	mem := vfs.NewMem()
	quietLog := batpak.WithLogger(slog.New(slog.DiscardHandler))

	_, err := batpak.Open("/data/con", batpak.WithFS(mem), quietLog)
	assert.ErrorIs(t, err, batpak.ErrNotPortable, "a store directory Open would create")
	_, err = batpak.Open("/data/store.", batpak.WithFS(mem), quietLog)
	assert.ErrorIs(t, err, batpak.ErrNotPortable)
	names, err := mem.List("/")
	require.NoError(t, err)
	assert.Empty(t, names, "a refused Open creates nothing")

	s, err := batpak.Open("/data/db", batpak.WithFS(mem), quietLog)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	for _, name := range []string{"nul", "CON", "com1", "lpt9.log", "aux.tmp", "cursor."} {
		_, err := s.DurableCursor(name, event.AllEvents())
		assert.ErrorIs(t, err, subscriber.ErrInvalidCursorName, name)
		assert.ErrorIs(t, err, batpak.ErrNotPortable, name)
	}
	for _, dest := range []string{"/backups/nul", "/backups/prn/monday", "/backups/a:b"} {
		_, err := s.Snapshot(ctx, dest)
		assert.ErrorIs(t, err, batpak.ErrNotPortable, dest)
	}
	_, err = mem.List("/backups")
	assert.True(t, vfs.IsNotExist(err), "a refused snapshot creates nothing: %v", err)
}
