package batpak_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// tombstoneWorkload fills several 64 KiB segments with events of
// "user:1" (the one to tombstone) and "user:2", some keyed, with a batch
// holding both every tenth event.
func tombstoneWorkload(t *testing.T, s *batpak.Store, n int) []batpak.Receipt {
	t.Helper()
	var out []batpak.Receipt
	for i := range n {
		a, b := coord(t, "user:1", "pii"), coord(t, "user:2", "pii")
		if i%10 == 9 {
			rs, err := s.AppendBatch(bg, []batpak.BatchItem{
				{Coord: a, Kind: kindMoved, Payload: payload{N: i}},
				{Coord: b, Kind: kindMoved, Payload: payload{N: -i}},
			})
			require.NoError(t, err)
			out = append(out, rs...)
			continue
		}
		c := a
		if i%3 == 0 {
			c = b
		}
		opts := batpak.AppendOptions{Flags: event.FlagReplay}
		if i%7 == 0 {
			opts.IdempotencyKey = fmt.Sprintf("k%d", i)
		}
		r, err := s.AppendWithOptions(bg, c, kindMoved, bytes.Repeat([]byte{byte(i)}, 1500), opts)
		require.NoError(t, err)
		out = append(out, r)
	}
	return out
}

func isUser1(ev *batpak.StoredEvent) bool { return ev.Coordinate.Entity() == "user:1" }

// Tombstone compaction keeps every event in place — id, coordinate,
// sequences, timestamps, flags, key, own hash — and drops only the
// payloads of the picked events, whose kind becomes KindTombstone. Reads,
// queries by kind, Verify, later appends and a reopen all agree.
func TestCompactTombstoneKeepsEveryEventInPlace(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, quiet, batpak.WithSegmentSize(64<<10))
	written := tombstoneWorkload(t, s, 150)
	before := map[batpak.ID]*batpak.StoredEvent{}
	for _, r := range written {
		ev, err := s.Get(bg, r.ID)
		require.NoError(t, err)
		before[r.ID] = ev
	}

	rep, err := s.Compact(bg, batpak.CompactOptions{Tombstone: isUser1})
	require.NoError(t, err)
	require.Positive(t, rep.Tombstoned)
	assert.Zero(t, rep.EventsDropped)

	check := func(s *batpak.Store, appended int) {
		t.Helper()
		tombs := 0
		for _, r := range written {
			ev, err := s.Get(bg, r.ID)
			require.NoError(t, err)
			was := before[r.ID]
			if ev.Kind == event.KindTombstone {
				tombs++
				assert.True(t, isUser1(was), "only user:1 is tombstoned")
				assert.Empty(t, ev.Payload)
				assert.Equal(t, batpak.Raw, ev.Codec)
				want := *was
				want.Kind, want.Codec, want.Payload, want.PayloadSize = event.KindTombstone, batpak.Raw, ev.Payload, 0
				want.Hash.Prev = ev.Hash.Prev
				assert.Equal(t, &want, ev, "everything but kind and payload stays")
				assert.Equal(t, was.Hash.Self, ev.Hash.Self, "the event's own hash stays")
				continue
			}
			assert.Equal(t, was, ev, "an event not picked is untouched")
		}
		assert.Equal(t, rep.Tombstoned, tombs)
		assert.Len(t, collect(t, s.ByFact(bg, event.KindTombstone)), tombs, "the kind index follows")
		assert.Len(t, collect(t, s.ByFact(bg, kindMoved)), len(written)-tombs+appended)
		stream := collect(t, s.Stream(bg, "user:1"))
		for i, ev := range stream {
			assert.Equal(t, uint64(i), ev.Sequence, "the stream keeps every sequence")
		}
		vr, err := s.Verify(bg)
		require.NoError(t, err)
		require.True(t, vr.OK(), "%v", vr.Problem)
		assert.Equal(t, tombs, vr.Tombstones)
		assert.Zero(t, vr.ChainRestarts)
	}
	check(s, 0)

	// The chain goes on over a tombstone: later appends verify.
	after := mustAppend(t, s, coord(t, "user:1", "pii"), kindMoved, payload{N: 1000})
	vr, err := s.Verify(bg)
	require.NoError(t, err)
	require.True(t, vr.OK(), "%v", vr.Problem)

	// A keyed event that became a tombstone: its key still names it, and a
	// retry carrying the original payload is not a replay of it.
	for _, r := range written {
		ev, _ := s.Get(bg, r.ID)
		if ev.Kind == event.KindTombstone && ev.IdempotencyKey != "" {
			was := before[r.ID]
			_, err := s.AppendWithOptions(bg, was.Coordinate, kindMoved, was.Payload, batpak.AppendOptions{IdempotencyKey: ev.IdempotencyKey})
			assert.ErrorIs(t, err, batpak.ErrDuplicate)
			break
		}
	}

	// Compacting again offers no tombstone twice.
	again, err := s.Compact(bg, batpak.CompactOptions{Tombstone: isUser1})
	require.NoError(t, err)
	assert.Zero(t, again.Tombstoned)

	require.NoError(t, s.Close())
	s = openStore(t, dir, quiet)
	check(s, 1)
	got, err := s.Get(bg, after.ID)
	require.NoError(t, err)
	assert.Equal(t, kindMoved, got.Kind)
	vr, err = batpak.VerifyDir(bg, dir, nil)
	require.NoError(t, err)
	assert.True(t, vr.OK(), "%v", vr.Problem)
	assert.Equal(t, rep.Tombstoned, vr.Tombstones)
}

// A tombstone's hash is accepted unverified only in a segment compaction
// wrote: the same frame in an ordinary segment is a broken chain.
func TestVerifyRefusesATombstoneOutsideACompactedSegment(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, quiet)
	c := coord(t, "e", "s")
	for i := range 3 {
		mustAppend(t, s, c, kindMoved, payload{N: i})
	}
	require.NoError(t, s.Close())

	// Rewrite the segment's second event as compaction would tombstone it.
	name := filepath.Join(dir, segmentFiles(t, vfs.OS, dir)[0])
	data := readFile(t, vfs.OS, name)
	fr := frames(t, data)
	require.Len(t, fr, 3)
	body, _, err := segment.ReadFrame(data[fr[1].Off:])
	require.NoError(t, err)
	var v segment.EventView
	require.NoError(t, segment.ParseEvent(body, &v))
	out := append([]byte(nil), data[:fr[1].Off]...)
	out = segment.AppendTombstone(out, &v)
	out = append(out, data[fr[1].End:]...)
	note := segment.EncodeSyncNote(int64(len(out)))
	copy(out[segment.SyncNoteOffset:], note[:])
	writeFile(t, vfs.OS, name, out)

	rep, err := batpak.VerifyDir(bg, dir, nil)
	require.NoError(t, err)
	require.Error(t, rep.Problem)
	assert.ErrorIs(t, rep.Problem, batpak.ErrChainBroken)
	var ce *batpak.CorruptionError
	require.ErrorAs(t, rep.Problem, &ce)
	assert.Equal(t, fr[1].Off, ce.Offset)
	assert.Zero(t, rep.Tombstones)
}

// TestCursorsAfterTombstoneCompaction: cursors share a cache of decoded
// events; after a compaction's tombstones, a cursor reading events the
// cache held before must get the tombstones, not the payloads they dropped.
func TestCursorsAfterTombstoneCompaction(t *testing.T) {
	s := openStore(t, t.TempDir(), quiet, batpak.WithSegmentSize(64<<10))
	written := tombstoneWorkload(t, s, 150)
	read := func() []*batpak.StoredEvent {
		c, err := s.Cursor(event.AllEvents(), 0)
		require.NoError(t, err)
		defer c.Close()
		evs, err := c.NextBatch(bg, len(written))
		require.NoError(t, err)
		require.Len(t, evs, len(written))
		return evs
	}
	before := read() // fills the cache
	rep, err := s.Compact(bg, batpak.CompactOptions{Tombstone: isUser1})
	require.NoError(t, err)
	require.Positive(t, rep.Tombstoned)
	tombs := 0
	for i, ev := range read() {
		if ev.Kind == event.KindTombstone {
			tombs++
			assert.Empty(t, ev.Payload)
			assert.Equal(t, before[i].ID, ev.ID)
		}
	}
	assert.Equal(t, rep.Tombstoned, tombs)
}
