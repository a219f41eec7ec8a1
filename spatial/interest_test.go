package spatial_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/spatial"
)

var walked = event.MustCustom(0x1, 0x001)

func openStore(t *testing.T) *batpak.Store {
	t.Helper()
	s, err := batpak.Open(t.TempDir(), batpak.WithDurability(batpak.OnWrite))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// drainUntil drains f until it has delivered global g.
func drainUntil(t *testing.T, f *spatial.Interest, g uint64, got []event.Notification) []event.Notification {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for len(got) == 0 || got[len(got)-1].Global < g {
		require.NoError(t, f.Wait(ctx))
		var err error
		got, err = f.Drain(ctx, got)
		require.NoError(t, err)
	}
	return got
}

// A player walks east across two chunk borders while others act all over
// the zone: its feed delivers, once each and in order, exactly the events
// of the chunks around wherever it was when each happened.
func TestInterestFollowsAcrossBorders(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	g := spatial.Grid{Zone: 1, Width: 8, Height: 4}
	here := spatial.Chunk{Zone: 1, X: 1, Y: 1}
	f, err := spatial.Follow(s, here, 1, 1<<16)
	require.NoError(t, err)
	defer f.Close()

	var want []uint64
	var got []event.Notification
	noise := func(n int) {
		for range n {
			c := g.Chunks()[rng.IntN(g.Width*g.Height)]
			r, err := s.Append(ctx, event.MustCoordinate(fmt.Sprintf("npc:%d", rng.IntN(9)), c.Scope()), walked, nil)
			require.NoError(t, err)
			if slices.Contains(here.Around(1), c) {
				want = append(want, r.Global)
			}
		}
	}
	noise(200)
	for _, next := range []spatial.Chunk{{Zone: 1, X: 2, Y: 1}, {Zone: 1, X: 3, Y: 1}} {
		require.NoError(t, f.MoveTo(next))
		here = next
		r, err := s.Append(ctx, event.MustCoordinate("player:1", here.Scope()), walked, nil) // its arrival
		require.NoError(t, err)
		want = append(want, r.Global)
		got = drainUntil(t, f, r.Global, got)
		noise(200)
	}
	r, err := s.Append(ctx, event.MustCoordinate("player:1", here.Scope()), walked, nil)
	require.NoError(t, err)
	want = append(want, r.Global)
	got = drainUntil(t, f, r.Global, got)

	gs := make([]uint64, len(got))
	for i, n := range got {
		gs[i] = n.Global
	}
	assert.Equal(t, want, gs)
	assert.Zero(t, f.Dropped())
	assert.Equal(t, here, f.At())
}

func TestInterestCountsDropsAndCloses(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	at := spatial.Chunk{Zone: 1}
	f, err := spatial.Follow(s, at, 0, 4)
	require.NoError(t, err)
	for range 11 {
		_, err := s.Append(ctx, event.MustCoordinate("p", at.Scope()), walked, nil)
		require.NoError(t, err)
	}
	// The store delivers publications in order: once a later event
	// elsewhere reaches a probe, the feed has been offered all eleven.
	probe, err := s.Subscribe(event.ForScope("elsewhere"), 1)
	require.NoError(t, err)
	r, err := s.Append(ctx, event.MustCoordinate("p", "elsewhere"), walked, nil)
	require.NoError(t, err)
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	n, err := probe.Recv(wctx)
	require.NoError(t, err)
	require.Equal(t, r.Global, n.Global)
	require.NoError(t, probe.Close())

	got, err := f.Drain(ctx, nil)
	require.NoError(t, err)
	assert.Len(t, got, 4)
	assert.Equal(t, uint64(11-4), f.Dropped())
	require.NoError(t, f.Close())
	assert.Equal(t, uint64(7), f.Dropped(), "a closed feed keeps its count")
	_, err = f.Drain(ctx, nil)
	assert.ErrorIs(t, err, spatial.ErrFeedClosed)
	assert.ErrorIs(t, f.MoveTo(spatial.Chunk{Zone: 2}), spatial.ErrFeedClosed)
	require.NoError(t, f.Close())
}
