package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/examples/internal/backend"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRun runs the example on each backend and checks what release 3
// reads from the three releases' events, in a run of its own on the same
// store.
func TestRun(t *testing.T) {
	for _, kind := range backend.Names {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			var out strings.Builder
			require.NoError(t, run(ctx, kind, dir, &out), "%s", out.String())
			assert.Contains(t, out.String(), "position: crypt (5,9) after 3 moves")
			assert.Contains(t, out.String(), "release 2 reading it:", "an old release refuses a newer version")
			assert.Contains(t, out.String(), `is named "player.moved" in the store`)

			s, err := backend.Open(ctx, kind, dir)
			require.NoError(t, err)
			defer s.Close()
			var versions []uint32
			var got []Moved
			for e, err := range PlayerMoved.Query(ctx, s, event.ForEntity("player:alice")) {
				require.NoError(t, err)
				versions = append(versions, e.PayloadVersion)
				got = append(got, e.Data)
			}
			assert.Equal(t, []uint32{1, 2, 3}, versions)
			assert.Equal(t, []Moved{{"lobby", 1, 2, "walk"}, {"crypt", 4, 2, "walk"}, {"crypt", 5, 9, "run"}}, got)
			pos, err := batpak.Project[Position](ctx, s, "player:alice", batpak.Consistent)
			require.NoError(t, err)
			assert.Equal(t, Position{Room: "crypt", X: 5, Y: 9, Moves: 3, Modes: map[string]int{"walk": 2, "run": 1}}, pos)
			names, err := s.KindNames().Table(ctx)
			require.NoError(t, err)
			assert.Equal(t, "player.moved", names[PlayerMoved.Kind()])
			require.NoError(t, s.Close())
		})
	}
}
