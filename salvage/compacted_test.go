package salvage_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/salvage"
	"github.com/batpak-go/batpak/segment"
)

// A source that compaction rewrote (retention dropped events, segment
// ids skip): salvage reads its compacted segments as they are, does not
// count what retention dropped as lost, and loses only what damage hit.
func TestSalvageOfACompactedStore(t *testing.T) {
	src := writeSource(t, true)
	s, err := batpak.Open(src.dir, batpak.WithSegmentSize(64<<10))
	require.NoError(t, err)
	// Drop player:3's single events: sequence gaps that are retention's.
	rep, err := s.Compact(bg, batpak.CompactOptions{Retain: func(ev *batpak.StoredEvent) bool {
		return ev.Coordinate.Entity() != "player:3" || ev.Kind == kindBatch
	}, TargetSize: 1 << 30})
	require.NoError(t, err)
	require.Positive(t, rep.EventsDropped)
	require.Greater(t, rep.SegmentsRemoved, rep.SegmentsWritten, "segments merged: ids skip")
	require.NoError(t, s.Close())
	kept := readAll(t, src.dir)

	recs := records(t, src.dir)
	var victim loc
	for _, r := range recs {
		if r.typ == segment.TypeEvent && r.file == segmentNames(t, src.dir)[0] && r.global > 10 && len(src.batchOf(r.global)) == 1 {
			victim = r
			break
		}
	}
	require.NotZero(t, victim.global)
	flipByte(t, victim.file, victim.off+300)

	dst := t.TempDir() + "/out"
	srep, err := salvage.Run(bg, src.dir, dst, salvage.Options{})
	require.NoError(t, err)
	got := readAll(t, dst)
	want := slices.DeleteFunc(slices.Clone(kept), func(ev *batpak.StoredEvent) bool { return ev.Global == victim.global })
	require.Len(t, got, len(want))
	for i := range want {
		sameEvent(t, want[i], got[i])
	}
	require.Len(t, srep.Damage, 1)
	assert.Equal(t, []uint64{victim.global}, srep.Damage[0].Globals)
	assert.Equal(t, 1, srep.Lost.Exact)
	for _, g := range srep.Gaps {
		assert.NotEqual(t, "player:3", g.Entity, "retention's gaps are not losses: %v", g)
	}
	checkGoesOn(t, dst, got, srep)
}

// A source whose compaction made tombstones (CompactOptions.Tombstone):
// their own hashes cannot be recomputed, yet they and every later event of
// their entities are intact — salvage keeps them all, as Verify accepts
// them, and loses only what damage hit.
func TestSalvageKeepsCompactionTombstones(t *testing.T) {
	src := writeSource(t, true)
	s, err := batpak.Open(src.dir, batpak.WithSegmentSize(64<<10))
	require.NoError(t, err)
	rep, err := s.Compact(bg, batpak.CompactOptions{Tombstone: func(ev *batpak.StoredEvent) bool {
		return ev.Coordinate.Entity() == "player:3"
	}, TargetSize: 1 << 30})
	require.NoError(t, err)
	require.Positive(t, rep.Tombstoned)
	require.NoError(t, s.Close())
	kept := readAll(t, src.dir)

	dst := t.TempDir() + "/out"
	srep, err := salvage.Run(bg, src.dir, dst, salvage.Options{})
	require.NoError(t, err)
	got := readAll(t, dst)
	require.Len(t, got, len(kept))
	for i := range kept {
		sameEvent(t, kept[i], got[i])
	}
	assert.Empty(t, srep.Damage)
	assert.Zero(t, srep.Lost.Exact)
	checkGoesOn(t, dst, got, srep)
}
