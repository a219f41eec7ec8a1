package batpak_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/internal/rustenc"
	"github.com/batpak-go/batpak/projector"
	"github.com/batpak-go/batpak/segment"
)

// dirState is a directory's entries with their sizes and contents, to
// prove that a refused open changed nothing.
func dirState(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			out[rel] = "dir"
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = string(b)
		return err
	}))
	return out
}

// rustStore writes a small batpak-rust store (two segments, a batch, a
// checkpoint) into a new directory.
func rustStore(t *testing.T) string {
	dir := t.TempDir()
	b := rustenc.New(1)
	b.Append("player:1", "room:1", 0xF001, []byte{0x01})
	b.Rotate()
	b.Batch(rustenc.Item{Entity: "player:2", Scope: "room:1", Kind: 0xF001, Payload: []byte{0x02}})
	require.NoError(t, b.WriteDir(dir, true))
	return dir
}

// Issue 16, item 2: Open on a batpak-rust directory treated it as empty and
// created a segment, CHECKPOINT and LOCK among its files; VerifyDir called
// it "OK" with 0 segments. Every entry point now refuses it with an error
// that names `batpak import`, and leaves every byte as it was.
func TestEntryPointsRefuseABatpakRustStoreAndCreateNothing(t *testing.T) {
	dirs := map[string]string{"test encoder": rustStore(t)}
	if fx := fixtureStoreCopy(t); fx != "" {
		dirs["batpak-rust fixture"] = fx
	}
	for label, dir := range dirs {
		before := dirState(t, dir)
		check := func(name string, err error) {
			t.Helper()
			require.Error(t, err, "%s %s", label, name)
			assert.ErrorIs(t, err, batpak.ErrBatpakRustStore, "%s %s", label, name)
			assert.ErrorIs(t, err, batpak.ErrForeignDir, "%s %s", label, name)
			var fe *batpak.ForeignDirError
			require.ErrorAs(t, err, &fe)
			assert.True(t, fe.BatpakRust)
			assert.Equal(t, dir, fe.Dir)
			assert.Contains(t, fe.Names, "000001.fbat")
			assert.Contains(t, err.Error(), "batpak import")
			assert.Equal(t, before, dirState(t, dir), "%s: %s changed the directory", label, name)
		}
		_, err := batpak.Open(dir, quiet)
		check("Open", err)
		_, err = batpak.OpenReadOnly(dir, quiet)
		check("OpenReadOnly", err)
		rep, err := batpak.VerifyDir(bg, dir, nil)
		check("VerifyDir", err)
		assert.False(t, rep.OK() && rep.Segments == 0 && err == nil, "not an empty, healthy store")
	}
}

// fixtureStoreCopy copies the shared batpak-rust fixture's store into a
// writable directory, or returns "" when the fixture is absent.
func fixtureStoreCopy(t *testing.T) string {
	dir, copied := t.TempDir(), false
	t.Run("fixture", func(t *testing.T) {
		src := filepath.Join(rustenc.FixtureDir(t), "store")
		entries, err := os.ReadDir(src)
		require.NoError(t, err)
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644))
		}
		copied = true
	})
	if !copied {
		return ""
	}
	return dir
}

// A read-only batpak-rust directory (the shared fixture is one) gets the
// refusal, not a permission error from trying to lock it. The test works
// on a read-only copy: were the refusal ever lost, a writable run (root
// ignores the mode) must not write into the shared fixture itself.
func TestOpenNamesBatpakImportForAReadOnlyDirectory(t *testing.T) {
	dir := rustStore(t)
	require.NoError(t, os.Chmod(dir, 0o555))
	t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
	_, err := batpak.Open(dir, quiet)
	assert.ErrorIs(t, err, batpak.ErrBatpakRustStore)
	assert.NotContains(t, dirState(t, dir), "LOCK")
}

// Files and directories no store makes are refused the same way — with
// an error that does not claim a batpak-rust store — and nothing is created.
func TestEntryPointsRefuseUnknownFiles(t *testing.T) {
	cases := map[string]func(dir string){
		"a document": func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644))
		},
		"a directory": func(dir string) { require.NoError(t, os.Mkdir(filepath.Join(dir, "photos"), 0o755)) },
		"a file named like a temp of compaction": func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "report.compact"), []byte("x"), 0o644))
		},
		"a file where cursors live": func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "cursors"), nil, 0o644))
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			setup(dir)
			before := dirState(t, dir)
			_, err := batpak.Open(dir, quiet)
			assert.ErrorIs(t, err, batpak.ErrForeignDir)
			assert.False(t, errors.Is(err, batpak.ErrBatpakRustStore))
			assert.Contains(t, err.Error(), "refusing to use it as a store directory")
			_, err = batpak.OpenReadOnly(dir, quiet)
			assert.ErrorIs(t, err, batpak.ErrForeignDir)
			_, err = batpak.VerifyDir(bg, dir, nil)
			assert.ErrorIs(t, err, batpak.ErrForeignDir)
			assert.Equal(t, before, dirState(t, dir))
		})
	}
}

// Every file the store itself makes — and the leftovers of its atomic
// writes, compaction and crashes, a projection cache kept beside it, a
// snapshot's manifest, hidden files — is recognised: reopening, read-only
// opening and verifying such a directory all work.
func TestEntryPointsAcceptEveryFileTheStoreMakes(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, quiet, batpak.WithSegmentSize(64<<10))
	c := coord(t, "player:1", "room:1")
	big := make([]byte, 20<<10)
	for range 8 {
		mustAppend(t, s, c, kindMoved, big) // several segments
	}
	cur, err := s.DurableCursor("reader", batpak.Region{})
	require.NoError(t, err)
	ev, err := cur.Next(bg)
	require.NoError(t, err)
	require.NoError(t, cur.Ack(bg, ev.Global)) // writes cursors/reader
	require.NoError(t, cur.Close())
	_, err = s.Compact(bg, batpak.CompactOptions{})
	require.NoError(t, err)
	snap := filepath.Join(t.TempDir(), "snap")
	_, err = s.Snapshot(bg, snap)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	cache, err := projector.OpenFileCache(dir)
	require.NoError(t, err)
	require.NoError(t, cache.Put(projector.Key{Name: "counter", Version: 1, Subject: "player:1"}, projector.Entry{Watermark: 1, State: []byte{1}}))
	for _, n := range []string{"CHECKPOINT.tmp", "SEQUENCE.tmp", segment.CompactTempName(99), ".DS_Store"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), nil, 0o644))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, "lost+found"), 0o755))

	s = openStore(t, dir, quiet)
	require.NoError(t, s.Close())
	ro, err := batpak.OpenReadOnly(dir, quiet)
	require.NoError(t, err)
	require.NoError(t, ro.Close())
	rep, err := batpak.VerifyDir(bg, dir, nil)
	require.NoError(t, err)
	assert.True(t, rep.OK(), "%+v", rep)

	ro, err = batpak.OpenReadOnly(snap, quiet) // a snapshot, MANIFEST.json and all
	require.NoError(t, err)
	require.NoError(t, ro.Close())
}
