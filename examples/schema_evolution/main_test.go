package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRun runs the example and checks what release 3 reads from the three
// releases' events.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, run(context.Background(), dir))

	s, err := batpak.OpenReadOnly(dir)
	require.NoError(t, err)
	defer s.Close()
	var versions []uint32
	var got []Moved
	for e, err := range PlayerMoved.Query(context.Background(), s, event.ForEntity("player:alice")) {
		require.NoError(t, err)
		versions = append(versions, e.PayloadVersion)
		got = append(got, e.Data)
	}
	assert.Equal(t, []uint32{1, 2, 3}, versions)
	assert.Equal(t, []Moved{{"lobby", 1, 2, "walk"}, {"crypt", 4, 2, "walk"}, {"crypt", 5, 9, "run"}}, got)
	pos, err := batpak.Project[Position](context.Background(), s, "player:alice", batpak.Consistent)
	require.NoError(t, err)
	assert.Equal(t, Position{Room: "crypt", X: 5, Y: 9, Moves: 3, Modes: map[string]int{"walk": 2, "run": 1}}, pos)
}
