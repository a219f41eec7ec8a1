package salvage_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/kinds"
	"github.com/batpak-go/batpak/salvage"
	"github.com/batpak-go/batpak/vfs"
)

type typedPayload struct{ N int }

// TestSalvageKeepsKindNamesAndVersions: the new store has the source's
// kind names and each event its payload version; damaged names are left
// behind with a note, and the events are salvaged all the same.
func TestSalvageKeepsKindNamesAndVersions(t *testing.T) {
	k := kinds.MustDefine[typedPayload](kinds.NewRegistry(), "salvage.typed", 0x3, 0x001, kinds.Version(4))
	src := t.TempDir()
	s, err := batpak.Open(src)
	require.NoError(t, err)
	_, err = batpak.AppendTyped(bg, s, k, event.MustCoordinate("p:1", "s"), typedPayload{N: 1})
	require.NoError(t, err)
	require.NoError(t, s.Close())

	dst := filepath.Join(t.TempDir(), "new")
	_, err = salvage.Run(bg, src, dst, salvage.Options{})
	require.NoError(t, err)
	names, err := kinds.ReadFile(vfs.OS, dst)
	require.NoError(t, err)
	assert.Equal(t, kinds.Table{k.Kind(): "salvage.typed"}, names)
	got, err := batpak.OpenReadOnly(dst)
	require.NoError(t, err)
	ev, err := got.Latest(bg, "p:1")
	require.NoError(t, err)
	assert.Equal(t, uint32(4), ev.PayloadVersion)
	require.NoError(t, got.Close())

	require.NoError(t, os.WriteFile(filepath.Join(src, kinds.FileName), []byte("{"), 0o600))
	dst2 := filepath.Join(t.TempDir(), "new")
	rep, err := salvage.Run(bg, src, dst2, salvage.Options{})
	require.NoError(t, err)
	assert.Equal(t, 1, rep.EventsKept)
	require.NotEmpty(t, rep.Notes)
	assert.Contains(t, rep.Notes[len(rep.Notes)-1], "kind names not copied")
	_, err = os.Stat(filepath.Join(dst2, kinds.FileName))
	assert.True(t, os.IsNotExist(err))
}
