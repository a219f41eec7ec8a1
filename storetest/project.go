package storetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/projector"
)

// facadeProjection runs the facade's projections on the backend: Project
// and ProjectRegion, a watch that sees a new event, and a live projection
// of NewProjector read after WaitApplied.
func (s *suite) facadeProjection(t *testing.T) {
	st := s.open(t)
	c := event.MustCoordinate("counter:2", "x")
	for i := 1; i <= 4; i++ {
		mustAppend(t, st, c, KindMoved, Moved{N: i})
		mustAppend(t, st, c, KindSpoke, Moved{N: 100}) // not a kind the projection lists
	}
	mustAppend(t, st, event.MustCoordinate("counter:3", "x"), KindMoved, Moved{N: 1000})

	got, err := batpak.Project[counter](bg, st, "counter:2", batpak.Consistent)
	require.NoError(t, err, "Project")
	assert.Equal(t, counter{Count: 4, Sum: 10}, got, "Project: 4 events summing to 10")
	all, err := batpak.ProjectRegion[counter](bg, st, event.ForScope("x"), batpak.Consistent)
	require.NoError(t, err, "ProjectRegion")
	assert.Equal(t, counter{Count: 5, Sum: 1010}, all, "ProjectRegion: both counters' 5 events summing to 1010")

	ctx := s.waitCtx(t)
	w, err := batpak.WatchProjection[counter](st, "counter:2")
	require.NoError(t, err, "WatchProjection")
	defer w.Close()
	u, err := w.Next(ctx)
	require.NoError(t, err, "the watch's first state")
	assert.Equal(t, counter{Count: 4, Sum: 10}, u.State, "the watch's first state")
	r := mustAppend(t, st, c, KindMoved, Moved{N: 5})
	u, err = w.Next(ctx)
	require.NoError(t, err, "the watch after an append at %d", r.Global)
	assert.Equal(t, counter{Count: 5, Sum: 15}, u.State, "the watch after an append at %d", r.Global)
	assert.GreaterOrEqual(t, u.Watermark, r.Global, "the watch's watermark covers the append")

	p, err := batpak.NewProjector(st)
	require.NoError(t, err, "NewProjector")
	defer p.Close()
	live, err := projector.Register[counter](p, "", projector.Entity("counter:2"))
	require.NoError(t, err, "Register")
	r = mustAppend(t, st, c, KindMoved, Moved{N: 6})
	require.NoError(t, p.WaitApplied(ctx, "storetest-counter", r.Global), "WaitApplied(%d)", r.Global)
	snap, err := live.Snapshot(ctx)
	require.NoError(t, err, "the live projection after WaitApplied")
	assert.Equal(t, counter{Count: 6, Sum: 21}, snap.State, "the live projection after WaitApplied: 6 events summing to 21")
	require.NoError(t, p.Close(), "the projector's Close")
}
