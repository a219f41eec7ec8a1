package batpak_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/reader"
)

// headerWorkload appends events across entities (two prefixes), scopes
// (two prefixes) and kinds, some of them reactions (correlation and
// causation), some in atomic batches, into small segments so that most
// are sealed (with footers).
func headerWorkload(t *testing.T, s *batpak.Store) {
	t.Helper()
	ctx := context.Background()
	var root batpak.Receipt
	for i := range 240 {
		entity := fmt.Sprintf("player:%d", i%5)
		if i%4 == 3 {
			entity = fmt.Sprintf("npc:%d", i%3)
		}
		scope := []string{"room:1", "room:2", "hall:1"}[i%3]
		kind := kindMoved
		if i%7 == 0 {
			kind = kindSpoke
		}
		c := coord(t, entity, scope)
		switch {
		case i%10 == 0:
			root = mustAppend(t, s, c, kind, map[string]int{"i": i})
		case i%10 == 3:
			_, err := s.AppendReaction(ctx, c, kind, i, root.ID, root.ID)
			require.NoError(t, err)
		case i%10 == 6:
			_, err := s.AppendBatch(ctx, []batpak.BatchItem{
				{Coord: c, Kind: kind, Payload: i},
				{Coord: coord(t, "npc:9", "hall:2"), Kind: kindMarker, Payload: i,
					Options: batpak.AppendOptions{Causation: root.ID}},
			})
			require.NoError(t, err)
		default: // room for a few segments of 64 KiB
			mustAppend(t, s, c, kind, map[string]any{"i": i, "pad": strings.Repeat("x", 900)})
		}
	}
}

// headerRegions are the region shapes the metadata-only reads must agree
// with the full reads on.
func headerRegions() map[string]batpak.Region {
	return map[string]batpak.Region{
		"all":                event.AllEvents(),
		"entity":             event.ForEntity("player:1"),
		"entity of one kind": event.ForEntity("player:1").WithKind(kindSpoke),
		"entity range":       event.ForEntity("player:2").WithSequence(5, 20),
		"absent entity":      event.ForEntity("player:77"),
		"entity prefix":      event.AllEvents().WithEntityPrefix("npc:"),
		"scope":              event.ForScope("room:2"),
		"scope prefix":       event.AllEvents().WithScopePrefix("hall:"),
		"scope set":          event.AllEvents().WithScopes("room:1", "hall:2"),
		"kind":               event.AllEvents().WithKind(kindMarker),
		"entity in a scope":  event.ForEntity("player:0").WithScope("room:1"),
		"prefix and kind":    event.AllEvents().WithEntityPrefix("player:").WithKind(kindSpoke),
	}
}

// requireHeadersMatch checks that, for every region shape and a few
// lower bounds, QueryHeadersAfter yields exactly the events QueryAfter
// yields, each header equal to its event's fields.
func requireHeadersMatch(t *testing.T, s *batpak.Store) []batpak.IndexHeader {
	t.Helper()
	ctx := context.Background()
	for name, r := range headerRegions() {
		for _, after := range []uint64{0, 17, 200} {
			evs := collect(t, s.QueryAfter(ctx, r, after))
			var hs []batpak.IndexHeader
			for h, err := range s.QueryHeadersAfter(ctx, r, after) {
				require.NoError(t, err, name)
				hs = append(hs, h)
			}
			require.Len(t, hs, len(evs), "%s after %d", name, after)
			for i, ev := range evs {
				requireHeaderOf(t, ev, hs[i], name)
			}
		}
	}
	var all []batpak.IndexHeader
	for h, err := range s.QueryHeaders(ctx, event.AllEvents()) {
		require.NoError(t, err)
		all = append(all, h)
	}
	return all
}

func requireHeaderOf(t *testing.T, ev *batpak.StoredEvent, h batpak.IndexHeader, what string) {
	t.Helper()
	want := batpak.IndexHeader{
		ID: ev.ID, Correlation: ev.Correlation, Causation: ev.Causation, Coordinate: ev.Coordinate,
		Kind: ev.Kind, Global: ev.Global, Sequence: ev.Sequence, Position: ev.Position, Size: h.Size,
	}
	require.Equal(t, want, h, "%s: global %d", what, ev.Global)
	// The frame holds the payload, the id and the coordinate at least.
	require.Greater(t, int(h.Size), len(ev.Payload)+16+len(ev.Coordinate.Entity()), what)
}

func TestHeadersEqualEventsForEveryRegionShape(t *testing.T) {
	s := openStore(t, t.TempDir(), batpak.WithSegmentSize(64<<10))
	headerWorkload(t, s)
	hs := requireHeadersMatch(t, s)
	links := 0
	for _, h := range hs {
		if h.Correlation != h.ID || !h.Causation.IsZero() {
			links++
		}
	}
	assert.Positive(t, links, "the workload must hold reactions for the links to be checked")
	assert.Greater(t, s.Stats().Segments, 2, "the workload must seal segments")

	var stream []batpak.IndexHeader
	for h, err := range s.StreamHeaders(context.Background(), "player:3") {
		require.NoError(t, err)
		stream = append(stream, h)
	}
	evs := collect(t, s.Stream(context.Background(), "player:3"))
	require.Len(t, stream, len(evs))
	for i, ev := range evs {
		requireHeaderOf(t, ev, stream[i], "stream")
		assert.Equal(t, uint64(i), stream[i].Sequence)
	}
}

// The headers of an index restored from the checkpoint, rebuilt from the
// segments (footers and frames), or rebuilt because the checkpoint is of
// the previous version (which lacks clocks and causations) are the same.
func TestHeadersSurviveReopenFromCheckpointAndRebuild(t *testing.T) {
	dir := t.TempDir()
	opts := []batpak.Option{batpak.WithSegmentSize(64 << 10)}
	s := openStore(t, dir, opts...)
	headerWorkload(t, s)
	before := requireHeadersMatch(t, s)
	closeStore(t, s)

	ckpt := filepath.Join(dir, reader.CheckpointFile)
	reopen := func(how string, checkpoint bool) {
		t.Helper()
		s := openStore(t, dir, opts...)
		require.Equal(t, checkpoint, s.Stats().Recovery.Checkpoint, how)
		assert.Equal(t, before, requireHeadersMatch(t, s), how)
		closeStore(t, s)
	}
	reopen("from the checkpoint", true)

	// A version 2 checkpoint, intact otherwise, is refused: rebuilt.
	b, err := os.ReadFile(ckpt)
	require.NoError(t, err)
	require.Equal(t, "BPKCKPT3", string(b[:8]))
	b[7] = '2'
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.Checksum(b[:len(b)-4], crc32.MakeTable(crc32.Castagnoli)))
	require.NoError(t, os.WriteFile(ckpt, b, 0o644))
	reopen("with a version 2 checkpoint", false)

	require.NoError(t, os.Remove(ckpt))
	s = openStore(t, dir, opts...)
	rep := s.Stats().Recovery
	require.False(t, rep.Checkpoint)
	require.Positive(t, rep.Footers, "sealed segments are indexed from their footers")
	assert.Equal(t, before, requireHeadersMatch(t, s), "rebuilt")
}

// After a compaction drops and tombstones events, the headers still match
// the events, in the open store and after a reopen.
func TestHeadersAfterCompaction(t *testing.T) {
	dir := t.TempDir()
	opts := []batpak.Option{batpak.WithSegmentSize(64 << 10)}
	s := openStore(t, dir, opts...)
	headerWorkload(t, s)
	before := requireHeadersMatch(t, s)
	iter := s.HeaderCursor(event.AllEvents(), 0) // opened before, read after
	rep, err := s.Compact(context.Background(), batpak.CompactOptions{
		Retain:    func(ev *batpak.StoredEvent) bool { return ev.Kind != kindSpoke },
		Tombstone: func(ev *batpak.StoredEvent) bool { return ev.Coordinate.Entity() == "npc:0" },
	})
	require.NoError(t, err)
	require.Positive(t, rep.EventsDropped)
	require.Positive(t, rep.Tombstoned)
	after := requireHeadersMatch(t, s) // compaction rewrites sealed segments only
	assert.Len(t, after, len(before)-rep.EventsDropped)
	tombs := 0
	for _, h := range after {
		if h.Kind == event.KindTombstone {
			tombs++
		}
	}
	assert.Equal(t, rep.Tombstoned, tombs)
	buf := make([]batpak.IndexHeader, 1000)
	n, err := iter.Next(context.Background(), buf)
	require.NoError(t, err)
	assert.Equal(t, after, buf[:n], "a cursor opened before the compaction reads the index after it")
	closeStore(t, s)

	s = openStore(t, dir, opts...)
	require.True(t, s.Stats().Recovery.Checkpoint, "the checkpoint written from the rebuilt index")
	assert.Equal(t, after, requireHeadersMatch(t, s), "reopened from the checkpoint after compaction")
}

func TestHeadersOfAReadOnlyStore(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, batpak.WithSegmentSize(64<<10))
	headerWorkload(t, s)
	want := requireHeadersMatch(t, s)
	ro, err := batpak.OpenReadOnly(dir)
	require.NoError(t, err)
	defer ro.Close()
	assert.Equal(t, want, requireHeadersMatch(t, ro))

	// The follower sees the writer's later events once it refreshes.
	r := mustAppend(t, s, coord(t, "player:1", "room:1"), kindMoved, 1)
	require.NoError(t, s.Sync(context.Background()))
	_, err = ro.Refresh(context.Background())
	require.NoError(t, err)
	var last batpak.IndexHeader
	for h, err := range ro.StreamHeaders(context.Background(), "player:1") {
		require.NoError(t, err)
		last = h
	}
	assert.Equal(t, r.ID, last.ID)
	assert.Equal(t, r.Position, last.Position)
}

// A cursor gives the region's headers a block at a time, going on after
// the last one, and sees events appended since.
func TestHeaderCursorReadsInBlocksAndFollows(t *testing.T) {
	s := openStore(t, t.TempDir())
	headerWorkload(t, s)
	ctx := context.Background()
	r := event.AllEvents().WithScopePrefix("room:")
	var want []batpak.IndexHeader
	for h, err := range s.QueryHeaders(ctx, r) {
		require.NoError(t, err)
		want = append(want, h)
	}
	c := s.HeaderCursor(r, 0)
	buf := make([]batpak.IndexHeader, 7)
	var got []batpak.IndexHeader
	for {
		n, err := c.Next(ctx, buf)
		require.NoError(t, err)
		if n == 0 {
			break
		}
		got = append(got, buf[:n]...)
	}
	require.Equal(t, want, got)
	assert.Equal(t, want[len(want)-1].Global, c.After())

	mustAppend(t, s, coord(t, "npc:1", "hall:1"), kindMoved, 1) // not in the region
	rc := mustAppend(t, s, coord(t, "npc:1", "room:9"), kindMoved, 2)
	n, err := c.Next(ctx, buf)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	assert.Equal(t, rc.ID, buf[0].ID)
	_, err = c.Next(ctx, nil)
	assert.ErrorIs(t, err, batpak.ErrInvalidOption)
}

func TestHeadersOfAClosedStoreAreErrClosed(t *testing.T) {
	s := openStore(t, t.TempDir())
	headerWorkload(t, s)
	c := s.HeaderCursor(event.AllEvents(), 0)
	ctx := context.Background()

	// Closed mid-iteration: the block already taken is yielded, then ErrClosed.
	var n int
	var last error
	for _, err := range s.QueryHeaders(ctx, event.AllEvents()) {
		if n++; n == 1 {
			closeStore(t, s)
		}
		last = err
	}
	assert.ErrorIs(t, last, batpak.ErrClosed)
	assert.Less(t, n, 240, "iteration stops at the first block after the close")

	for _, seq := range []func() (batpak.IndexHeader, error){
		func() (batpak.IndexHeader, error) { return first(s.QueryHeaders(ctx, event.AllEvents())) },
		func() (batpak.IndexHeader, error) { return first(s.StreamHeaders(ctx, "player:1")) },
	} {
		_, err := seq()
		assert.ErrorIs(t, err, batpak.ErrClosed)
	}
	_, err := c.Next(ctx, make([]batpak.IndexHeader, 4))
	assert.ErrorIs(t, err, batpak.ErrClosed)
}

func first(seq func(func(batpak.IndexHeader, error) bool)) (batpak.IndexHeader, error) {
	for h, err := range seq {
		return h, err
	}
	return batpak.IndexHeader{}, nil
}

func TestHeadersStopOnACancelledContext(t *testing.T) {
	s := openStore(t, t.TempDir())
	headerWorkload(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := first(s.QueryHeaders(ctx, event.AllEvents()))
	assert.ErrorIs(t, err, context.Canceled)
}
