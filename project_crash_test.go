package batpak_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/projector"
	"github.com/batpak-go/batpak/vfs"
)

// A cache can outlive the log's tail: a power loss takes the on-write
// events of the last sync window, while a cache kept elsewhere (or a file
// cache whose file the disk happened to write back) still holds a state
// that counted them. Once new events are appended — numbered above the
// lost ones — the cached state must not be extended as if nothing was
// lost.
func TestCachedProjectionNeverBringsBackEventsACrashLost(t *testing.T) {
	fs := vfs.NewMem()
	cache := projector.NewMemoryCache(16) // survives the crash, as a cache outside the store may
	s := openStore(t, memDir, batpak.WithFS(fs), batpak.WithSyncEvery(0, 0))
	c := event.MustCoordinate("counter:1", "room:1")
	_, err := s.Append(bg, c, projInc, projStep{By: 1})
	require.NoError(t, err)
	_, err = s.AppendWithOptions(bg, c, projInc, projStep{By: 1}, batpak.AppendOptions{Durability: batpak.OnWrite})
	require.NoError(t, err)
	got, err := batpak.Project[projCounter](bg, s, "counter:1", batpak.Consistent, batpak.FromCache(cache))
	require.NoError(t, err)
	require.EqualValues(t, 2, got.N)

	crashed := fs.CrashClone(vfs.CrashOptions{}) // the on-write event is lost
	closeStore(t, s)
	s = openStore(t, memDir, batpak.WithFS(crashed))
	// Something else happens after the restart: the log moves past the
	// cached watermark.
	_, err = s.Append(bg, event.MustCoordinate("counter:2", "room:1"), projInc, projStep{By: 1})
	require.NoError(t, err)

	got, err = batpak.Project[projCounter](bg, s, "counter:1", batpak.Consistent, batpak.FromCache(cache))
	require.NoError(t, err)
	assert.EqualValues(t, 1, got.N, "only the durable event is in the log")
}
