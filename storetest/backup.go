package storetest

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// snapshot: a backup is a store directory with a manifest that
// VerifySnapshot accepts and OpenReadOnly opens, holding every event
// acknowledged before it began — ids, coordinates, kinds, payloads,
// correlations, causations, per-entity sequences and global order — with
// chains that verify; it refuses a destination that is not empty.
func (s *suite) snapshot(t *testing.T) {
	st := s.open(t)
	ctx := s.waitCtx(t)
	a, b := event.MustCoordinate("acct:a", "bank"), event.MustCoordinate("acct:b", "bank")
	root := mustAppend(t, st, a, KindMoved, Moved{N: 1})
	_, err := st.AppendBatch(ctx, []batpak.BatchItem{
		{Coord: a, Kind: KindSpoke, Payload: Moved{N: 2}, Options: event.AppendOptions{Correlation: root.ID, Causation: root.ID}},
		{Coord: b, Kind: KindMoved, Payload: Moved{N: 3}, Cause: event.CauseItem(0)},
	})
	require.NoError(t, err)
	mustAppend(t, st, b, KindOther, []byte("raw bytes"))
	want := collect(t, st.Query(ctx, event.AllEvents()))

	dest := filepath.Join(t.TempDir(), "backup")
	man, err := st.Snapshot(ctx, dest)
	require.NoError(t, err)
	assert.Equal(t, want[len(want)-1].Global, man.LastGlobal)
	vman, err := batpak.VerifySnapshot(ctx, dest)
	require.NoError(t, err)
	assert.Equal(t, man.Files, vman.Files)

	copyStore, err := batpak.OpenReadOnly(dest)
	require.NoError(t, err)
	defer copyStore.Close()
	got := collect(t, copyStore.Query(ctx, event.AllEvents()))
	require.Len(t, got, len(want))
	for i, ev := range got {
		w := want[i]
		assert.Equal(t, w.ID, ev.ID)
		assert.Equal(t, w.Global, ev.Global)
		assert.Equal(t, w.Sequence, ev.Sequence)
		assert.Equal(t, w.Coordinate, ev.Coordinate)
		assert.Equal(t, w.Kind, ev.Kind)
		assert.Equal(t, w.Correlation, ev.Correlation)
		assert.Equal(t, w.Causation, ev.Causation)
		assert.Equal(t, w.Codec, ev.Codec)
		assert.Equal(t, w.Payload, ev.Payload)
	}
	rep, err := copyStore.Verify(ctx)
	require.NoError(t, err)
	assert.Nil(t, rep.Problem, "the backup's chains verify")

	_, err = st.Snapshot(ctx, dest)
	assert.ErrorIs(t, err, batpak.ErrSnapshotNotEmpty)
}
