package batpakrust_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/internal/rustenc"
	"github.com/batpak-go/batpak/migrate/batpakrust"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

var quiet = batpak.WithLogger(slog.New(slog.DiscardHandler))

func openRust(t *testing.T, files map[string][]byte) *batpakrust.Store {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: data}
	}
	st, err := batpakrust.OpenFS(fsys)
	require.NoError(t, err)
	return st
}

func allEvents(t *testing.T, s *batpak.Store) []*batpak.StoredEvent {
	t.Helper()
	var out []*batpak.StoredEvent
	for ev, err := range s.Query(context.Background(), event.AllEvents()) {
		require.NoError(t, err)
		out = append(out, ev)
	}
	return out
}

// goBatches lists the atomic batches of a batpak-go store's segments as
// [first global, count] pairs, from their BEGIN markers.
func goBatches(t *testing.T, fs vfs.FS, dir string) [][2]uint64 {
	t.Helper()
	names, err := fs.List(dir)
	require.NoError(t, err)
	var out [][2]uint64
	for _, n := range names {
		if _, ok := segment.ParseFileName(n); !ok {
			continue
		}
		f, err := fs.Open(filepath.Join(dir, n))
		require.NoError(t, err)
		size, err := f.Size()
		require.NoError(t, err)
		data := make([]byte, size)
		_, err = f.ReadAt(data, 0)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		for off := segment.HeaderSize; off < len(data); {
			body, sz, err := segment.ReadFrame(data[off:])
			if err != nil {
				break
			}
			if body[0] == segment.TypeBatchBegin {
				m, err := segment.ParseMarker(body)
				require.NoError(t, err)
				out = append(out, [2]uint64{m.FirstGlobal, uint64(m.Count)})
			}
			off += sz
		}
	}
	return out
}

// The shared fixture imported: every event keeps what the manifest says
// batpak-rust reported — id, correlation, causation, kind, flags, payload
// (decoded with batpak.Decode), coordinate, per-entity sequence, timestamp
// and clock — and gets global position + 1; the batch of three is one
// atomic batch; the result verifies.
func TestImportFixtureKeepsEveryManifestField(t *testing.T) {
	m, storeDir := loadFixture(t)
	src, err := batpakrust.Open(storeDir)
	require.NoError(t, err)
	dir := t.TempDir()
	dst, err := batpak.Open(dir, quiet)
	require.NoError(t, err)
	defer dst.Close()
	rep, err := batpakrust.Import(context.Background(), src, dst, nil)
	require.NoError(t, err)
	assert.Equal(t, 10, rep.Imported)
	assert.Equal(t, 1, rep.BatchesImported)
	assert.Zero(t, rep.Replayed+rep.Unimportable+rep.Renumbered+rep.SkippedCount+rep.DamagedFrames)

	type moved struct {
		X int `msgpack:"x" json:"x"`
		Y int `msgpack:"y" json:"y"`
	}
	for i, want := range m.Events {
		msg := fmt.Sprintf("event %d", i)
		id, err := event.ParseID(want.ID)
		require.NoError(t, err)
		ev, err := dst.Get(context.Background(), id)
		require.NoError(t, err, msg)
		assert.Equal(t, want.ID, ev.ID.String(), msg)
		assert.Equal(t, want.CorrelationID, ev.Correlation.String(), msg)
		if want.CausedBy == nil {
			assert.True(t, ev.Causation.IsZero(), msg)
		} else {
			assert.Equal(t, *want.CausedBy, ev.Causation.String(), msg)
		}
		assert.Equal(t, want.Kind, fmt.Sprintf("0x%04X", uint16(ev.Kind)), msg)
		assert.Equal(t, want.KindCategory, ev.Kind.Category(), msg)
		assert.Equal(t, want.KindTypeID, ev.Kind.Type(), msg)
		assert.Equal(t, uint16(want.Flags), ev.Flags, msg)
		assert.Equal(t, want.Entity, ev.Coordinate.Entity(), msg)
		assert.Equal(t, want.Scope, ev.Coordinate.Scope(), msg)
		assert.Equal(t, want.Sequence, ev.Sequence, msg)
		assert.Equal(t, want.GlobalPosition+1, ev.Global, msg)
		assert.Equal(t, want.TimestampUS, ev.Timestamp, msg)
		assert.Equal(t, want.WallMS, ev.Position.WallMS, msg)
		assert.Equal(t, want.PayloadSize, ev.PayloadSize, msg)
		assert.Equal(t, batpak.MsgPack, ev.Codec, msg)
		p, err := batpak.Decode[moved](ev)
		require.NoError(t, err, msg)
		var wantP moved
		require.NoError(t, json.Unmarshal(want.Payload, &wantP))
		assert.Equal(t, wantP, p, msg)
	}
	assert.Equal(t, [][2]uint64{{5, 3}}, goBatches(t, vfs.OS, dir), "events 4-6 (globals 5-7 here) are one atomic batch")
	vr, err := dst.Verify(context.Background())
	require.NoError(t, err)
	assert.True(t, vr.OK(), "%v", vr.Problem)
}

// richStore is a batpak-rust store with what an import meets: singles,
// reactions, effect kinds, batches (one across a rotation), a batch a
// crash cut off, a damaged frame, three segments and a checkpoint.
func richStore(t *testing.T, seed uint64) (files map[string][]byte, importable []event.ID, batches [][]event.ID) {
	b := rustenc.New(seed)
	var units [][]rustenc.Written
	one := func(w rustenc.Written) { units = append(units, []rustenc.Written{w}) }
	for i := range 30 {
		p, err := msgpack.Marshal(map[string]int{"i": i})
		require.NoError(t, err)
		e := fmt.Sprintf("player:%d", i%4)
		switch {
		case i%9 == 4:
			units = append(units, b.Batch(
				rustenc.Item{Entity: e, Scope: "room:1", Kind: 0xF001, Payload: p},
				rustenc.Item{Entity: "player:9", Scope: "room:2", Kind: 0xF002, Payload: p},
			))
		case i%7 == 6:
			one(b.Append(e, "room:1", uint16(event.KindAck), p))
		default:
			one(b.Append(e, "room:1", 0xF001, p))
		}
		if i == 12 {
			b.Rotate()
		}
	}
	// A batch across a rotation.
	id := b.BatchID()
	b.Begin(2)
	x := b.Append("player:1", "room:1", 0xF001, []byte{0x01})
	b.Rotate()
	y := b.Append("player:2", "room:1", 0xF001, []byte{0x02})
	b.Commit(id)
	units = append(units, []rustenc.Written{x, y})
	// A batch a crash cut off, then a damaged frame, then more.
	b.Begin(3)
	b.Append("player:1", "room:1", 0xF001, []byte{0x03})
	b.Crash()
	bad := b.Append("player:3", "room:1", 0xF001, []byte{0x04})
	one(b.Append("player:3", "room:1", 0xF001, []byte{0x05}))
	one(b.Append("player:0", "room:1", 0xF001, []byte{0x06}))
	b.FlipByte(bad.Segment, bad.Offset+int64(bad.Size)-2)
	files = b.Files(true)
	for _, u := range units {
		var ids []event.ID
		for _, w := range u {
			ids = append(ids, w.Event.ID)
		}
		importable = append(importable, ids...)
		if len(u) > 1 {
			batches = append(batches, ids)
		}
	}
	return files, importable, batches
}

// checkImported checks a finished import of richStore: every importable
// event once, in batpak-rust's order, the batches atomic, and a store that
// verifies.
func checkImported(t *testing.T, fs vfs.FS, dir string, s *batpak.Store, importable []event.ID, batches [][]event.ID) {
	t.Helper()
	evs := allEvents(t, s)
	var got []event.ID
	globalOf := map[event.ID]uint64{}
	for _, ev := range evs {
		got = append(got, ev.ID)
		globalOf[ev.ID] = ev.Global
	}
	require.Equal(t, importable, got, "every importable event once, in order")
	var want [][2]uint64
	for _, b := range batches {
		want = append(want, [2]uint64{globalOf[b[0]], uint64(len(b))})
	}
	assert.Equal(t, want, goBatches(t, fs, dir), "each batpak-rust batch is one atomic batch")
	vr, err := s.Verify(context.Background())
	require.NoError(t, err)
	assert.True(t, vr.OK(), "%v", vr.Problem)
}

func TestImportCarriesBatchesAndReportsWhatItSkipped(t *testing.T) {
	files, importable, batches := richStore(t, 1)
	dir := t.TempDir()
	dst, err := batpak.Open(dir, quiet)
	require.NoError(t, err)
	defer dst.Close()
	var progress [][2]int64
	rep, err := batpakrust.Import(context.Background(), openRust(t, files), dst, func(d, tot int64) { progress = append(progress, [2]int64{d, tot}) })
	require.NoError(t, err)
	assert.Equal(t, len(importable), rep.Imported)
	assert.Equal(t, len(batches), rep.BatchesImported)
	assert.Equal(t, rep.Events, rep.Imported)
	assert.Equal(t, 1, rep.SkippedCount, "the batch the crash cut off")
	assert.Equal(t, 1, rep.SkippedEvents)
	assert.Equal(t, 1, rep.DamagedFrames)
	assert.Zero(t, rep.Unimportable)
	assert.Positive(t, rep.Renumbered, "player:3's events after the lost one")
	require.NotEmpty(t, progress)
	assert.Equal(t, progress[len(progress)-1][1], progress[len(progress)-1][0])
	checkImported(t, vfs.OS, dir, dst, importable, batches)

	// Run again: everything is there already.
	again, err := batpakrust.Import(context.Background(), openRust(t, files), dst, nil)
	require.NoError(t, err)
	assert.Zero(t, again.Imported)
	assert.Equal(t, len(importable), again.Replayed)
	assert.Zero(t, again.BatchesImported)
	checkImported(t, vfs.OS, dir, dst, importable, batches)
}

// TestImportInterruptedAtEveryPointResumesWithoutDuplicates crashes the
// destination's file system after each of its operations during an
// import, then reopens the crash image and runs the import again: the
// image always opens and holds a clean prefix of the import (no partial
// batch, nothing twice), and the second run always finishes it to exactly
// what an uninterrupted import writes.
func TestImportInterruptedAtEveryPointResumesWithoutDuplicates(t *testing.T) {
	files, importable, batches := richStore(t, 2)
	const dir = "/dst"
	opts := func(fs vfs.FS) []batpak.Option {
		// No timed syncs: the operations are the same run after run.
		return []batpak.Option{batpak.WithFS(fs), batpak.WithSegmentSize(64 << 10), batpak.WithSyncEvery(0, 0), quiet}
	}
	run := func(fs vfs.FS) error {
		s, err := batpak.Open(dir, opts(fs)...)
		if err != nil {
			return err
		}
		_, err = batpakrust.Import(context.Background(), openRust(t, files), s, nil)
		return errors.Join(err, s.Close())
	}
	base := vfs.NewMem()
	probe := base.CrashClone(vfs.CrashOptions{})
	require.NoError(t, run(probe))
	total := probe.Ops()
	require.Greater(t, total, 20)
	partial := 0
	for _, mode := range []vfs.CrashOptions{{}, {KeepUnsyncedFraction: 1}} {
		for k := 0; k <= total; k++ {
			fs := base.CrashClone(vfs.CrashOptions{})
			fs.SetCrashAfter(k, mode, nil)
			_ = run(fs)
			img := fs.Crashed()
			if img == nil {
				continue
			}
			s, err := batpak.Open(dir, opts(img)...)
			require.NoError(t, err, "crash after op %d", k)
			evs := allEvents(t, s)
			var got []event.ID
			for _, ev := range evs {
				got = append(got, ev.ID)
			}
			require.LessOrEqual(t, len(got), len(importable))
			require.Equal(t, importable[:len(got)], append([]event.ID{}, got...), "crash after op %d: a prefix of the import", k)
			if len(got) > 0 && len(got) < len(importable) {
				partial++
			}
			for _, b := range batches {
				n := 0
				for _, id := range b {
					if slices.Contains(got, id) {
						n++
					}
				}
				require.True(t, n == 0 || n == len(b), "crash after op %d: batch %v half there", k, b)
			}
			rep, err := batpakrust.Import(context.Background(), openRust(t, files), s, nil)
			require.NoError(t, err, "crash after op %d: the rerun", k)
			assert.Equal(t, len(got), rep.Replayed, "crash after op %d", k)
			assert.Equal(t, len(importable)-len(got), rep.Imported, "crash after op %d", k)
			checkImported(t, img, dir, s, importable, batches)
			require.NoError(t, s.Close())
		}
	}
	t.Logf("%d operations; %d crash images held part of the import", total, partial)
	assert.Positive(t, partial)
}

// An import into a store that holds a different event under one of the
// imported ids is not this store's import: it stops with ErrDuplicate.
func TestImportStopsAtAnIDThatNamesAnotherEvent(t *testing.T) {
	b := rustenc.New(3)
	b.Append("e", "s", 0xF001, []byte{0x01})
	dst, err := batpak.Open(t.TempDir(), quiet)
	require.NoError(t, err)
	defer dst.Close()
	_, err = batpakrust.Import(context.Background(), openRust(t, b.Files(true)), dst, nil)
	require.NoError(t, err)

	other := rustenc.New(3) // the same ids, another payload
	other.Append("e", "s", 0xF001, []byte{0x02})
	_, err = batpakrust.Import(context.Background(), openRust(t, other.Files(true)), dst, nil)
	assert.ErrorIs(t, err, batpak.ErrDuplicate)
}

// Events batpak-go cannot hold are reported, not written: a coordinate it
// refuses, a payload above the destination's bound; a batch goes whole.
func TestImportReportsWhatBatpakGoRefuses(t *testing.T) {
	b := rustenc.New(4)
	ok := b.Append("e", "s", 0xF001, []byte{0x01})
	nul := b.Append("bad\x00entity", "s", 0xF001, []byte{0x02})
	big := b.Append("e", "s", 0xF001, bytes.Repeat([]byte{0x03}, 100))
	batch := b.Batch(
		rustenc.Item{Entity: "f", Scope: "s", Kind: 0xF001, Payload: []byte{0x04}},
		rustenc.Item{Entity: "", Scope: "s", Kind: 0xF001, Payload: []byte{0x05}},
	)
	last := b.Append("e", "s", 0xF001, []byte{0x06})
	dst, err := batpak.Open(t.TempDir(), quiet, batpak.WithMaxPayload(64))
	require.NoError(t, err)
	defer dst.Close()
	rep, err := batpakrust.Import(context.Background(), openRust(t, b.Files(true)), dst, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Imported)
	assert.Equal(t, 4, rep.Unimportable)
	require.Len(t, rep.Refused, 3)
	assert.Equal(t, nul.Offset, rep.Refused[0].Offset)
	assert.Contains(t, rep.Refused[0].Reason, "NUL")
	assert.Equal(t, big.Offset, rep.Refused[1].Offset)
	assert.Contains(t, rep.Refused[1].Reason, "payload too large")
	assert.Equal(t, batch[0].Offset, rep.Refused[2].Offset)
	assert.Equal(t, 2, rep.Refused[2].Events)
	var got []event.ID
	for _, ev := range allEvents(t, dst) {
		got = append(got, ev.ID)
	}
	assert.Equal(t, []event.ID{ok.Event.ID, last.Event.ID}, got)
}
