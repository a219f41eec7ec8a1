package batpak_test

import (
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/storetest"
)

// TestEventStoreConformance runs the facade's behavioural suite against the
// embedded store, reopening its directory for the durable-cursor test.
func TestEventStoreConformance(t *testing.T) {
	dirs := map[batpak.EventStore]string{}
	storetest.Run(t, func(t *testing.T) batpak.EventStore {
		dir := t.TempDir()
		s := openStore(t, dir)
		dirs[s] = dir
		return s
	}, storetest.WithReopen(func(t *testing.T, old batpak.EventStore) batpak.EventStore {
		dir := dirs[old]
		if err := old.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		s := openStore(t, dir)
		dirs[s] = dir
		return s
	}))
}
