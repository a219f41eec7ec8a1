package storetest_test

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestEmbeddedStore runs the suite against the embedded store, reopening
// its directory for the durable-cursor test.
func TestEmbeddedStore(t *testing.T) {
	dirs := map[batpak.EventStore]string{}
	open := func(t *testing.T, dir string) batpak.EventStore {
		s, err := batpak.Open(dir, batpak.WithLogger(slog.New(slog.DiscardHandler)))
		require.NoError(t, err, "Open(%s)", dir)
		t.Cleanup(func() { _ = s.Close() })
		dirs[s] = dir
		return s
	}
	storetest.Run(t, func(t *testing.T) batpak.EventStore {
		return open(t, t.TempDir())
	}, storetest.WithReopen(func(t *testing.T, old batpak.EventStore) batpak.EventStore {
		dir := dirs[old]
		require.NoError(t, old.Close())
		return open(t, dir)
	}))
}
