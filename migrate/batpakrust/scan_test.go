package batpakrust_test

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/internal/rustenc"
	"github.com/batpak-go/batpak/migrate/batpakrust"
)

const kindMoved uint16 = 0xF001

func pl(t *testing.T, v any) []byte {
	t.Helper()
	b, err := msgpack.Marshal(v)
	require.NoError(t, err)
	return b
}

// scanned is what a Scan handed on.
type scanned struct {
	units  []batpakrust.Unit
	events []batpakrust.Event
	rep    *batpakrust.Report
}

func scanFiles(t *testing.T, files map[string][]byte) scanned {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: data}
	}
	st, err := batpakrust.OpenFS(fsys)
	require.NoError(t, err)
	var s scanned
	s.rep, err = st.Scan(context.Background(), nil, func(u batpakrust.Unit) error {
		s.units = append(s.units, u)
		s.events = append(s.events, u.Events...)
		return nil
	})
	require.NoError(t, err)
	return s
}

func ids(evs []batpakrust.Event) []event.ID {
	out := make([]event.ID, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func writtenIDs(ws ...rustenc.Written) []event.ID {
	out := make([]event.ID, len(ws))
	for i, w := range ws {
		out[i] = w.Event.ID
	}
	return out
}

// A store with plain appends, a reaction, batches (one crossing into the
// next segment), rotations and a clean close reads back whole and in
// order, every index cross-check passing.
func TestScanReadsACleanStoreWhole(t *testing.T) {
	b := rustenc.New(1)
	a0 := b.Append("player:a", "room:1", kindMoved, pl(t, map[string]int{"x": 0}))
	a1 := b.Append("player:b", "room:1", kindMoved, pl(t, map[string]int{"x": 1}))
	cause := [16]byte(a0.Event.ID)
	r := b.Append("player:b", "room:1", kindMoved, pl(t, "reaction"), func(e *rustenc.Event) {
		e.Causation, e.Correlation = &cause, a0.Event.ID
		e.Flags = uint8(event.FlagRequiresAck | event.FlagReplay)
	})
	batch := b.Batch(
		rustenc.Item{Entity: "player:a", Scope: "room:1", Kind: kindMoved, Payload: pl(t, 2)},
		rustenc.Item{Entity: "player:c", Scope: "room:2", Kind: kindMoved, Payload: pl(t, 3)},
	)
	b.Rotate()
	id := b.BatchID()
	b.Begin(3)
	s1 := b.Append("player:a", "room:1", kindMoved, pl(t, 4))
	b.Rotate() // the batch crosses into the next segment
	s2 := b.Append("player:b", "room:1", kindMoved, pl(t, 5))
	s3 := b.Append("player:c", "room:2", kindMoved, pl(t, 6))
	b.Commit(id)
	last := b.Append("player:a", "room:1", uint16(event.KindTombstone), nil)

	s := scanFiles(t, b.Files(true))
	assert.True(t, s.rep.OK(), "%+v", s.rep)
	want := writtenIDs(a0, a1, r, batch[0], batch[1], s1, s2, s3, last)
	assert.Equal(t, want, ids(s.events))
	for i, e := range s.events {
		assert.Equal(t, uint64(i), e.Global, "global sequences count from 0 in log order")
	}
	require.Len(t, s.units, 6)
	assert.True(t, s.units[3].Batch)
	assert.Len(t, s.units[3].Events, 2)
	assert.True(t, s.units[4].Batch)
	assert.Len(t, s.units[4].Events, 3, "a batch crossing segments is one unit")
	assert.False(t, s.units[5].Batch)

	assert.Equal(t, 9, s.rep.Events)
	assert.Equal(t, 3, s.rep.Entities)
	assert.Equal(t, 2, s.rep.Batches)
	assert.Equal(t, 3, s.rep.Segments)
	assert.Equal(t, 3, s.rep.FootersChecked)
	assert.True(t, s.rep.CheckpointFound)
	assert.Equal(t, 9, s.rep.CheckpointChecked)

	react := s.events[2]
	assert.Equal(t, event.ID(cause), react.Causation)
	assert.Equal(t, event.ID(a0.Event.ID), react.Correlation)
	assert.Equal(t, uint8(0x09), react.Flags)
	assert.Equal(t, uint64(1), react.Sequence, "per-entity sequence")
	var got string
	require.NoError(t, msgpack.Unmarshal(react.Payload, &got))
	assert.Equal(t, "reaction", got)
	assert.Equal(t, event.KindTombstone, s.events[8].Kind)
}

// A batch a crash cut off (BEGIN and items, no COMMIT) is skipped and
// reported, as batpak-rust's recovery skips it; what follows reads on.
func TestScanSkipsABatchWithoutCommit(t *testing.T) {
	b := rustenc.New(2)
	first := b.Append("e", "s", kindMoved, pl(t, 1))
	begin := b.Begin(3)
	b.Append("e", "s", kindMoved, pl(t, 2))
	b.Append("f", "s", kindMoved, pl(t, 3))
	b.Crash()
	after := b.Append("e", "s", kindMoved, pl(t, 4))

	s := scanFiles(t, b.Files(true))
	assert.Equal(t, writtenIDs(first, after), ids(s.events))
	assert.Equal(t, 1, s.rep.SkippedCount)
	assert.Equal(t, 2, s.rep.SkippedEvents)
	require.Len(t, s.rep.SkippedBatches, 1)
	sb := s.rep.SkippedBatches[0]
	assert.Equal(t, begin.Segment, sb.Segment)
	assert.Equal(t, begin.Offset, sb.Offset)
	assert.Equal(t, uint32(3), sb.Declared)
	assert.Equal(t, 2, sb.Found)
	assert.Contains(t, sb.Reason, "segment ends (unsealed", "a crash ended the segment")
	assert.Zero(t, s.rep.ChainBreaks, "after the crash the chain goes on from the committed events")
	assert.Zero(t, s.rep.DamagedFrames)
	assert.Equal(t, uint64(1), s.events[1].Global, "numbering skips the batch, as batpak-rust's does")
	assert.False(t, s.rep.OK())
}

func TestScanSkipsABatchCutOffAtTheEndOfTheLog(t *testing.T) {
	b := rustenc.New(3)
	first := b.Append("e", "s", kindMoved, pl(t, 1))
	b.Begin(2)
	b.Append("e", "s", kindMoved, pl(t, 2))
	s := scanFiles(t, b.Files(true)) // sealed, yet the batch never committed
	assert.Equal(t, writtenIDs(first), ids(s.events))
	require.Len(t, s.rep.SkippedBatches, 1)
	assert.Contains(t, s.rep.SkippedBatches[0].Reason, "log ends before its COMMIT")
}

// The batch rules around markers: a COMMIT after fewer items than
// announced, a BEGIN inside a batch, and a COMMIT without a BEGIN.
func TestScanBatchMarkerRules(t *testing.T) {
	t.Run("commit after too few items", func(t *testing.T) {
		b := rustenc.New(4)
		id := b.BatchID()
		b.Begin(3)
		b.Append("e", "s", kindMoved, pl(t, 1))
		b.Append("e", "s", kindMoved, pl(t, 2))
		b.Commit(id)
		s := scanFiles(t, b.Files(false))
		assert.Empty(t, s.events)
		require.Len(t, s.rep.SkippedBatches, 1)
		assert.Contains(t, s.rep.SkippedBatches[0].Reason, "COMMIT after 2 items, BEGIN announced 3")
	})
	t.Run("begin inside a batch", func(t *testing.T) {
		b := rustenc.New(5)
		b.Begin(2)
		b.Append("e", "s", kindMoved, pl(t, 1))
		items := b.Batch(rustenc.Item{Entity: "f", Scope: "s", Kind: kindMoved, Payload: pl(t, 2)})
		s := scanFiles(t, b.Files(false))
		assert.Equal(t, writtenIDs(items...), ids(s.events))
		require.Len(t, s.rep.SkippedBatches, 1)
		assert.Contains(t, s.rep.SkippedBatches[0].Reason, "another batch began before its COMMIT")
	})
	t.Run("more items than announced", func(t *testing.T) {
		b := rustenc.New(16)
		id := b.BatchID()
		b.Begin(1)
		b.Append("e", "s", kindMoved, pl(t, 1))
		extra := b.Append("f", "s", kindMoved, pl(t, 2))
		b.Commit(id)
		s := scanFiles(t, b.Files(false))
		assert.Equal(t, writtenIDs(extra), ids(s.events), "the event past the batch reads as an event of its own")
		require.Len(t, s.rep.SkippedBatches, 1)
		assert.Contains(t, s.rep.SkippedBatches[0].Reason, "an event follows its 1 announced items")
		assert.Equal(t, 1, s.rep.DamagedFrames, "the COMMIT then stands alone")
	})
	t.Run("commit without begin", func(t *testing.T) {
		b := rustenc.New(6)
		e := b.Append("e", "s", kindMoved, pl(t, 1))
		c := b.Commit(b.BatchID())
		s := scanFiles(t, b.Files(false))
		assert.Equal(t, writtenIDs(e), ids(s.events))
		require.Len(t, s.rep.Damaged, 1)
		assert.Equal(t, c.Offset, s.rep.Damaged[0].Offset)
		assert.Contains(t, s.rep.Damaged[0].Cause, "COMMIT marker without a BEGIN")
	})
}

// A frame whose CRC fails is reported and skipped; the frames after it
// still read, and the entity's chain reports the missing link.
func TestScanSkipsAFrameThatFailsItsCRC(t *testing.T) {
	b := rustenc.New(7)
	e0 := b.Append("e", "s", kindMoved, pl(t, 0))
	bad := b.Append("e", "s", kindMoved, pl(t, 1))
	e2 := b.Append("e", "s", kindMoved, pl(t, 2))
	other := b.Append("f", "s", kindMoved, pl(t, 3))
	b.Rotate()
	b.FlipByte(bad.Segment, bad.Offset+int64(bad.Size)-1)

	s := scanFiles(t, b.Files(true))
	assert.Equal(t, writtenIDs(e0, e2, other), ids(s.events))
	assert.Equal(t, 1, s.rep.DamagedFrames)
	require.Len(t, s.rep.Damaged, 1)
	d := s.rep.Damaged[0]
	assert.Equal(t, bad.Segment, d.Segment)
	assert.Equal(t, bad.Offset, d.Offset)
	assert.Equal(t, int64(bad.Size), d.Bytes)
	assert.Contains(t, d.Cause, "CRC")
	// e2 skips sequence 1 and links to the lost frame's hash.
	assert.Equal(t, 2, s.rep.ChainBreaks, "%+v", s.rep.Chain)
	// The footer and the checkpoint list the lost event.
	assert.Equal(t, 2, s.rep.Mismatches, "%+v", s.rep.MismatchList)
	assert.Equal(t, uint64(2), s.events[1].Global, "the footer's global sequence is kept")
}

// Damage inside a batch costs the whole batch: its other items are not
// read as loose events, and its COMMIT does not stand alone.
func TestScanDamageInsideABatchSkipsTheWholeBatch(t *testing.T) {
	b := rustenc.New(8)
	before := b.Append("e", "s", kindMoved, pl(t, 0))
	items := b.Batch(
		rustenc.Item{Entity: "e", Scope: "s", Kind: kindMoved, Payload: pl(t, 1)},
		rustenc.Item{Entity: "f", Scope: "s", Kind: kindMoved, Payload: pl(t, 2)},
		rustenc.Item{Entity: "g", Scope: "s", Kind: kindMoved, Payload: pl(t, 3)},
	)
	after := b.Append("h", "s", kindMoved, pl(t, 4))
	b.FlipByte(items[1].Segment, items[1].Offset+20)

	s := scanFiles(t, b.Files(false))
	assert.Equal(t, writtenIDs(before, after), ids(s.events))
	assert.Equal(t, 1, s.rep.DamagedFrames, "%+v", s.rep.Damaged)
	assert.Equal(t, 1, s.rep.SkippedCount)
	assert.Equal(t, 2, s.rep.SkippedEvents, "the items that read, before and after the damage")
	assert.Contains(t, s.rep.SkippedBatches[0].Reason, "damaged frame")
	assert.Zero(t, s.rep.Batches)
}

// A frame cut off by a crash (a torn tail) is damage at the end of the
// segment; everything before it reads.
func TestScanReportsATornTail(t *testing.T) {
	b := rustenc.New(9)
	e0 := b.Append("e", "s", kindMoved, pl(t, 0))
	torn := rustenc.Frame(rustenc.FrameBody(&rustenc.Event{Entity: "e", Scope: "s", Payload: []byte{1}}))
	b.Raw(torn[:len(torn)/2])
	s := scanFiles(t, b.Files(false))
	assert.Equal(t, writtenIDs(e0), ids(s.events))
	require.Len(t, s.rep.Damaged, 1)
	assert.Contains(t, s.rep.Damaged[0].Cause, "torn tail")
	assert.Equal(t, int64(len(torn)/2), s.rep.Damaged[0].Bytes)
}

// batpak-rust's chain is checked: the payload hash, the prev_hash link
// and the per-entity sequence. A break is reported and the event, whose
// CRC is sound, still read.
func TestScanReportsHashChainBreaks(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func(*rustenc.Event)
		problem string
	}{
		{"payload not hashed", func(e *rustenc.Event) { e.Payload = []byte{0xc3}; e.PayloadSize = 1 }, "not the Blake3 hash of the payload"},
		{"prev link", func(e *rustenc.Event) { e.Chain.Prev[0] ^= 1 }, "prev_hash"},
		{"sequence gap", func(e *rustenc.Event) { e.Sequence++ }, "per-entity sequence 2, expected 1"},
		{"content hash", func(e *rustenc.Event) { e.ContentHash[3] ^= 1 }, "content_hash"},
		{"payload size", func(e *rustenc.Event) { e.PayloadSize++ }, "payload_size"},
		{"no chain", func(e *rustenc.Event) { e.Chain = nil }, "no hash_chain"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := rustenc.New(10)
			b.Append("e", "s", kindMoved, pl(t, 0))
			w := b.Append("e", "s", kindMoved, pl(t, 1), tc.tamper)
			s := scanFiles(t, b.Files(false))
			assert.Len(t, s.events, 2)
			require.NotEmpty(t, s.rep.Chain)
			assert.Contains(t, s.rep.Chain[0].Problem, tc.problem)
			assert.Equal(t, w.Offset, s.rep.Chain[0].Offset)
			assert.Equal(t, event.ID(w.Event.ID).String(), s.rep.Chain[0].ID)
			assert.Zero(t, s.rep.DamagedFrames)
		})
	}
}

// Events written without batpak-rust's blake3 feature carry zero hashes:
// counted, not reported as breaks.
func TestScanCountsUnhashedEvents(t *testing.T) {
	b := rustenc.New(11)
	zero := func(e *rustenc.Event) { e.Chain = &rustenc.Chain{}; e.ContentHash = [32]byte{} }
	b.Append("e", "s", kindMoved, pl(t, 0), zero)
	b.Append("e", "s", kindMoved, pl(t, 1), zero)
	s := scanFiles(t, b.Files(false))
	assert.Equal(t, 2, s.rep.Unhashed)
	assert.Zero(t, s.rep.ChainBreaks)
}

// A tombstone's payload is not checked against its hash (batpak-rust's
// compaction rewrites it), but its link is.
func TestScanDoesNotHashATombstonesPayload(t *testing.T) {
	b := rustenc.New(12)
	b.Append("e", "s", kindMoved, pl(t, 0))
	b.Append("e", "s", kindMoved, pl(t, 1), func(e *rustenc.Event) {
		e.Kind = uint16(event.KindTombstone)
		e.Payload, e.PayloadSize = nil, 0
	})
	s := scanFiles(t, b.Files(false))
	assert.Zero(t, s.rep.ChainBreaks, "%+v", s.rep.Chain)
	assert.Equal(t, event.KindTombstone, s.events[1].Kind)
}

// A damaged checkpoint or footer is derived data: reported as a mismatch,
// the frames still read.
func TestScanReportsDamagedIndexData(t *testing.T) {
	b := rustenc.New(13)
	e0 := b.Append("e", "s", kindMoved, pl(t, 0))
	b.Rotate()
	files := b.Files(true)
	files["index.ckpt"][20] ^= 0xFF
	seg := files["000001.fbat"]
	seg[len(seg)-20] ^= 0xFF // inside the footer's last entry

	s := scanFiles(t, files)
	assert.Equal(t, writtenIDs(e0), ids(s.events))
	assert.False(t, s.rep.CheckpointFound)
	assert.Equal(t, 2, s.rep.Mismatches, "%+v", s.rep.MismatchList)
	assert.Equal(t, "index.ckpt", s.rep.MismatchList[0].Source)
	assert.Contains(t, s.rep.MismatchList[0].Problem, "CRC")
	assert.Equal(t, "SIDX", s.rep.MismatchList[1].Source)
}

func TestOpenRefusesADirectoryWithoutSegments(t *testing.T) {
	_, err := batpakrust.OpenFS(fstest.MapFS{"index.ckpt": &fstest.MapFile{}, "00001.fbat": &fstest.MapFile{}})
	assert.ErrorIs(t, err, batpakrust.ErrNotStore)
	_, err = batpakrust.Open(t.TempDir())
	assert.ErrorIs(t, err, batpakrust.ErrNotStore)
}

func TestScanStopsWhenTheCallbackFails(t *testing.T) {
	b := rustenc.New(14)
	b.Append("e", "s", kindMoved, pl(t, 0))
	b.Append("e", "s", kindMoved, pl(t, 1))
	st, err := batpakrust.OpenFS(fstest.MapFS{"000001.fbat": &fstest.MapFile{Data: b.Files(false)["000001.fbat"]}})
	require.NoError(t, err)
	calls := 0
	_, err = st.Scan(context.Background(), nil, func(batpakrust.Unit) error { calls++; return assert.AnError })
	assert.ErrorIs(t, err, assert.AnError)
	assert.Equal(t, 1, calls)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = st.Scan(ctx, nil, nil)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestScanReportsProgress(t *testing.T) {
	b := rustenc.New(15)
	b.Append("e", "s", kindMoved, pl(t, 0))
	b.Rotate()
	b.Append("e", "s", kindMoved, pl(t, 1))
	fsys := fstest.MapFS{}
	for n, d := range b.Files(true) {
		fsys[n] = &fstest.MapFile{Data: d}
	}
	st, err := batpakrust.OpenFS(fsys)
	require.NoError(t, err)
	var calls [][2]int64
	_, err = st.Scan(context.Background(), func(done, total int64) { calls = append(calls, [2]int64{done, total}) }, nil)
	require.NoError(t, err)
	require.Len(t, calls, 2)
	assert.Equal(t, st.Size(), calls[1][0])
	assert.Equal(t, st.Size(), calls[1][1])
	assert.Less(t, calls[0][0], calls[1][0])
}
