package batpak_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/reader"
)

// Issue 22, item 5: an idempotency key reused for a different event must be
// ErrDuplicate, not a replay of the first receipt that drops the new
// payload — for singles and batches, before and after a restart (from the
// checkpoint and from a scan of the frames) and after compaction has moved
// the first events.
func TestKeyReusedForAnotherEventIsRefusedAcrossRestartAndCompaction(t *testing.T) {
	dir := t.TempDir()
	opts := []batpak.Option{batpak.WithSegmentSize(64 << 10)}
	s := openStore(t, dir, opts...)
	pay := coord(t, "payment:7", "billing")
	key := batpak.AppendOptions{IdempotencyKey: "pay-7"}
	first, err := s.AppendWithOptions(bg, pay, kindMoved, []byte("amount=10"), key)
	require.NoError(t, err)
	a, b := coord(t, "a", "s"), coord(t, "b", "s")
	keyed := func(c batpak.Coordinate, k, p string) batpak.BatchItem {
		return batpak.BatchItem{Coord: c, Kind: kindMoved, Payload: []byte(p), Options: batpak.AppendOptions{IdempotencyKey: k}}
	}
	batch := []batpak.BatchItem{keyed(a, "b1", "one"), keyed(b, "b2", "two"), keyed(a, "b3", "three")}
	firstBatch, err := s.AppendBatch(bg, batch)
	require.NoError(t, err)
	// Fill a few segments so that compaction has sealed segments to merge.
	filler := bytes.Repeat([]byte{7}, 4<<10)
	for range 48 {
		mustAppend(t, s, coord(t, "filler", "s"), kindSpoke, filler)
	}
	events := s.Stats().Events

	check := func(s *batpak.Store, when string) {
		t.Helper()
		_, err := s.AppendWithOptions(bg, pay, kindMoved, []byte("amount=9999"), key)
		require.ErrorIs(t, err, batpak.ErrDuplicate, "%s: single with another payload", when)
		assert.Contains(t, err.Error(), "reused for a different event", when)
		tk, err := s.Submit(bg, pay, kindMoved, []byte("amount=9999"), key)
		require.NoError(t, err)
		_, err = tk.Wait(bg)
		require.ErrorIs(t, err, batpak.ErrDuplicate, "%s: submitted single with another payload", when)
		r, err := s.AppendWithOptions(bg, pay, kindMoved, []byte("amount=10"), key)
		require.NoError(t, err, when)
		assert.True(t, r.Replayed, when)
		assert.Equal(t, first.ID, r.ID, when)

		for name, items := range map[string][]batpak.BatchItem{
			"OtherPayload": {batch[0], keyed(b, "b2", "TWO"), batch[2]},
			"Reordered":    {batch[1], batch[0], batch[2]},
			"Prefix":       {batch[0], batch[1]},
		} {
			_, err := s.AppendBatch(bg, items)
			require.ErrorIs(t, err, batpak.ErrDuplicate, "%s: batch %s", when, name)
		}
		rs, err := s.AppendBatch(bg, batch)
		require.NoError(t, err, when)
		require.Len(t, rs, len(firstBatch))
		for i := range rs {
			assert.True(t, rs[i].Replayed, when)
			assert.Equal(t, firstBatch[i].ID, rs[i].ID, "%s: item %d", when, i)
		}
		assert.Equal(t, events, s.Stats().Events, "%s: refused retries wrote events", when)
	}
	check(s, "same session")

	closeStore(t, s)
	s = openStore(t, dir, opts...)
	require.True(t, s.Stats().Recovery.Checkpoint, "reopen did not load the checkpoint")
	check(s, "after reopen from the checkpoint")

	closeStore(t, s)
	require.NoError(t, os.Remove(filepath.Join(dir, reader.CheckpointFile)))
	s = openStore(t, dir, opts...)
	require.False(t, s.Stats().Recovery.Checkpoint)
	check(s, "after reopen from a scan")

	rep, err := s.Compact(bg, batpak.CompactOptions{TargetSize: 1 << 20})
	require.NoError(t, err)
	require.Positive(t, rep.SegmentsRemoved, "compaction moved nothing: %+v", rep)
	check(s, "after compaction")
	closeStore(t, s)
	s = openStore(t, dir, opts...)
	check(s, "after compaction and reopen")
}
