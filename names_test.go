package batpak_test

import (
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/stretchr/testify/require"
)

// TestEntitiesAndScopesSorted: every entity and scope with an event, each
// once, sorted — on the writing store, on a read-only one, and without
// the names compaction emptied.
func TestEntitiesAndScopesSorted(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, batpak.WithSegmentSize(64<<10))
	require.Empty(t, s.Entities())
	require.Empty(t, s.Scopes())
	for _, c := range [][2]string{
		{"player:bob", "room:hall"}, {"player:alice", "room:hall"},
		{"player:bob", "room:crypt"}, {"npc:gate", "room:yard"},
	} {
		_, err := s.Append(bg, event.MustCoordinate(c[0], c[1]), kindMoved, []byte("x"))
		require.NoError(t, err)
	}
	wantEntities := []string{"npc:gate", "player:alice", "player:bob"}
	wantScopes := []string{"room:crypt", "room:hall", "room:yard"}
	require.Equal(t, wantEntities, s.Entities())
	require.Equal(t, wantScopes, s.Scopes())

	ro, err := batpak.OpenReadOnly(dir, quiet)
	require.NoError(t, err)
	require.Equal(t, wantEntities, ro.Entities())
	require.Equal(t, wantScopes, ro.Scopes())
	require.NoError(t, ro.Close())

	// Seal the segment holding them with later events, then drop npc:gate.
	for range 40 {
		_, err := s.Append(bg, event.MustCoordinate("filler", "pad"), kindMoved, make([]byte, 2000))
		require.NoError(t, err)
	}
	_, err = s.Compact(bg, batpak.CompactOptions{Retain: func(ev *batpak.StoredEvent) bool {
		return ev.Coordinate.Entity() != "npc:gate"
	}})
	require.NoError(t, err)
	require.Equal(t, []string{"filler", "player:alice", "player:bob"}, s.Entities())
	require.Equal(t, []string{"pad", "room:crypt", "room:hall"}, s.Scopes())
}
