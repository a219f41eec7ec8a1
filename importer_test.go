package batpak_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// v7 makes a UUIDv7 of millisecond ms with a distinguishing low part, as
// another store (batpak-rust) would have made it.
func v7(ms uint64, n uint64) batpak.ID {
	var id batpak.ID
	binary.BigEndian.PutUint64(id[:8], ms<<16|0x7000|n&0xFFF)
	binary.BigEndian.PutUint64(id[8:], 0x8000_0000_0000_0000|n)
	return id
}

func imported(t *testing.T, id batpak.ID, entity string, kind batpak.EventKind, v any) batpak.ImportEvent {
	t.Helper()
	b, err := msgpack.Marshal(v)
	require.NoError(t, err)
	ms := id.UnixMilli()
	return batpak.ImportEvent{
		ID: id, Coord: coord(t, entity, "room:1"), Kind: kind, Codec: batpak.MsgPack, Payload: b,
		Timestamp: ms*1000 + 321, WallMS: uint64(ms), Counter: 2,
	}
}

// An imported event keeps its id, timestamp, clock reading, correlation,
// causation, flags, kind (reserved categories included) and payload; the
// store gives it its per-entity and global sequences and chains it; its
// own ids afterwards sort above every imported one — also after a reopen.
func TestImporterKeepsIDsAndClockReadings(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, quiet)
	im, err := s.Importer(batpak.OnWrite)
	require.NoError(t, err)

	const future = 2_000_000_000_000 // ms: ids from a clock far ahead of this one
	a := imported(t, v7(future, 9), "player:1", kindMoved, payload{N: 1})
	a.Flags = event.FlagReplay | event.FlagRequiresAck
	b := imported(t, v7(future, 3), "player:1", event.KindAck, payload{N: 2}) // a lower id after a higher one
	b.Correlation, b.Causation = a.ID, a.ID
	c := imported(t, v7(future, 5), "player:2", event.KindTombstone, nil)
	c.Codec, c.Payload = batpak.Raw, nil

	ra, err := im.Append(bg, a)
	require.NoError(t, err)
	rs, err := im.AppendBatch(bg, []batpak.ImportEvent{b, c})
	require.NoError(t, err)
	require.Len(t, rs, 2)
	assert.Equal(t, []uint64{1, 2, 3}, []uint64{ra.Global, rs[0].Global, rs[1].Global})
	assert.Equal(t, []uint64{0, 1, 0}, []uint64{ra.Sequence, rs[0].Sequence, rs[1].Sequence})

	mine := mustAppend(t, s, coord(t, "player:1", "room:1"), kindMoved, payload{N: 3})
	assert.Positive(t, mine.ID.Compare(a.ID), "the store's own id sorts after every imported id")
	assert.Equal(t, uint64(2), mine.Sequence, "after a and b")

	check := func(s *batpak.Store) {
		t.Helper()
		for _, want := range []batpak.ImportEvent{a, b, c} {
			ev, err := s.Get(bg, want.ID)
			require.NoError(t, err)
			assert.Equal(t, want.ID, ev.ID)
			assert.Equal(t, want.Coord, ev.Coordinate)
			assert.Equal(t, want.Kind, ev.Kind)
			assert.Equal(t, want.Flags, ev.Flags)
			assert.Equal(t, want.Timestamp, ev.Timestamp)
			assert.Equal(t, want.WallMS, ev.Position.WallMS)
			assert.Equal(t, want.Counter, ev.Position.Counter)
			assert.Equal(t, want.Causation, ev.Causation)
			if want.Correlation.IsZero() {
				assert.Equal(t, want.ID, ev.Correlation)
			} else {
				assert.Equal(t, want.Correlation, ev.Correlation)
			}
			assert.Equal(t, want.Codec, ev.Codec)
			assert.True(t, bytes.Equal(want.Payload, ev.Payload), "payload of %v", want.ID)
		}
		got, err := batpak.Decode[payload](mustGet(t, s, a.ID))
		require.NoError(t, err)
		assert.Equal(t, 1, got.N)
		assert.Len(t, collect(t, s.ByCorrelation(bg, a.ID)), 2)
		vr, err := s.Verify(bg)
		require.NoError(t, err)
		assert.True(t, vr.OK(), "%v", vr.Problem)
	}
	check(s)
	require.NoError(t, s.Close())

	s = openStore(t, dir, quiet)
	check(s)
	again := mustAppend(t, s, coord(t, "player:3", "room:1"), kindMoved, payload{N: 4})
	assert.Positive(t, again.ID.Compare(a.ID), "after a reopen too, though the log's last id is not its newest")
}

func mustGet(t *testing.T, s *batpak.Store, id batpak.ID) *batpak.StoredEvent {
	t.Helper()
	ev, err := s.Get(bg, id)
	require.NoError(t, err)
	return ev
}

// An id the store already holds is a replay when it is the same event —
// single or whole batch — and ErrDuplicate otherwise; a batch part of
// which is there is refused whole. Nothing is written twice.
func TestImporterRecognisesAnIDAlreadyThere(t *testing.T) {
	s := openStore(t, t.TempDir(), quiet)
	im, err := s.Importer(batpak.DefaultDurability)
	require.NoError(t, err)
	a := imported(t, v7(1_800_000_000_000, 1), "e", kindMoved, payload{N: 1})
	b := imported(t, v7(1_800_000_000_000, 2), "e", kindMoved, payload{N: 2})
	c := imported(t, v7(1_800_000_000_000, 3), "f", kindMoved, payload{N: 3})
	first, err := im.Append(bg, a)
	require.NoError(t, err)
	rs, err := im.AppendBatch(bg, []batpak.ImportEvent{b, c})
	require.NoError(t, err)

	again, err := im.Append(bg, a)
	require.NoError(t, err)
	assert.True(t, again.Replayed)
	assert.Equal(t, first.Global, again.Global)
	replayed, err := im.AppendBatch(bg, []batpak.ImportEvent{b, c})
	require.NoError(t, err)
	assert.True(t, replayed[0].Replayed && replayed[1].Replayed)
	assert.Equal(t, rs[1].Global, replayed[1].Global)
	assert.True(t, im.Has(a.ID))

	changed := a
	changed.Payload = []byte{0x01}
	_, err = im.Append(bg, changed)
	assert.ErrorIs(t, err, batpak.ErrDuplicate)
	d := imported(t, v7(1_800_000_000_000, 4), "g", kindMoved, payload{N: 4})
	_, err = im.AppendBatch(bg, []batpak.ImportEvent{c, d})
	assert.ErrorIs(t, err, batpak.ErrDuplicate, "half of this batch is there")
	var bie *batpak.BatchItemError
	require.ErrorAs(t, err, &bie)
	assert.Equal(t, 1, bie.Item)
	assert.False(t, im.Has(d.ID), "nothing of a refused batch is written")
	_, err = im.AppendBatch(bg, []batpak.ImportEvent{d, d})
	assert.ErrorIs(t, err, batpak.ErrDuplicate, "an id twice in one batch")

	assert.Len(t, all(t, s), 3)
}

// What an Importer refuses, before anything reaches the writer.
func TestImporterRefusesWhatTheStoreCannotHold(t *testing.T) {
	s := openStore(t, t.TempDir(), quiet, batpak.WithMaxPayload(16), batpak.WithBatchLimits(2, 1<<20))
	im, err := s.Importer(batpak.DefaultDurability)
	require.NoError(t, err)
	good := imported(t, v7(1_800_000_000_000, 1), "e", kindMoved, payload{N: 1})

	noID := good
	noID.ID = batpak.ID{}
	_, err = im.Append(bg, noID)
	assert.ErrorIs(t, err, batpak.ErrInvalidOption)
	marker := good
	marker.Kind = event.KindBatchBegin
	_, err = im.Append(bg, marker)
	assert.ErrorIs(t, err, batpak.ErrInvalidKind)
	noCoord := good
	noCoord.Coord = batpak.Coordinate{}
	_, err = im.Append(bg, noCoord)
	assert.ErrorIs(t, err, batpak.ErrInvalidCoordinate)
	big := good
	big.Payload = make([]byte, 17)
	_, err = im.AppendBatch(bg, []batpak.ImportEvent{good, big})
	assert.ErrorIs(t, err, batpak.ErrPayloadTooLarge)
	_, err = im.AppendBatch(bg, []batpak.ImportEvent{good, good, good})
	assert.ErrorIs(t, err, batpak.ErrBatchTooLarge)
	_, err = im.AppendBatch(bg, nil)
	assert.ErrorIs(t, err, batpak.ErrEmptyBatch)
	assert.Empty(t, all(t, s))

	_, err = s.Importer(batpak.Durability(9))
	assert.ErrorIs(t, err, batpak.ErrInvalidOption)
	require.NoError(t, s.Close())
	_, err = s.Importer(batpak.DefaultDurability)
	assert.ErrorIs(t, err, batpak.ErrClosed)
	_, err = im.Append(bg, good)
	assert.ErrorIs(t, err, batpak.ErrClosed)
}

func TestImporterNeedsAWritableStore(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, quiet)
	mustAppend(t, s, coord(t, "e", "s"), kindMoved, payload{})
	require.NoError(t, s.Close())
	ro, err := batpak.OpenReadOnly(dir, quiet)
	require.NoError(t, err)
	defer ro.Close()
	_, err = ro.Importer(batpak.DefaultDurability)
	assert.ErrorIs(t, err, batpak.ErrReadOnly)
}

// The log's last event may be an imported one whose id is not the newest:
// a reopened store still makes its ids above every imported UUIDv7 — and
// is not bent by an imported id that is no UUIDv7 (a program's own number).
func TestImporterIDsStayBelowTheStoresOwnAfterAReopen(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, quiet)
	im, err := s.Importer(batpak.DefaultDurability)
	require.NoError(t, err)
	high := imported(t, v7(2_000_000_000_000, 9), "e", kindMoved, payload{N: 1})
	low := imported(t, v7(2_000_000_000_000, 3), "e", kindMoved, payload{N: 2})
	odd := imported(t, batpak.ID{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, "e", kindMoved, payload{N: 3})
	for _, ev := range []batpak.ImportEvent{high, odd, low} {
		_, err := im.Append(bg, ev)
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())

	s = openStore(t, dir, quiet)
	r := mustAppend(t, s, coord(t, "e", "s"), kindMoved, payload{N: 4})
	assert.Positive(t, r.ID.Compare(high.ID))
	assert.Equal(t, int64(2_000_000_000_000), r.ID.UnixMilli(), "moved to the imported ids' millisecond, not to the odd id's")
	_, err = s.Get(bg, odd.ID)
	require.NoError(t, err, "an odd id is found all the same")
}
