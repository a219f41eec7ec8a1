package salvage_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/segment"
)

var (
	bg        = context.Background()
	kindMoved = event.MustCustom(1, 1)
	kindBatch = event.MustCustom(1, 2)
)

// payload has a fixed encoded size, so that every event frame of the test
// store has the same size and one can be copied over another.
type payload struct {
	N   string `msgpack:"n"`
	Pad string `msgpack:"pad"`
}

func pl(i int) payload { return payload{N: fmt.Sprintf("%06d", i), Pad: strings.Repeat("p", 1500)} }

// source is a store written by a test, closed, and what it holds.
type source struct {
	dir    string
	events []*batpak.StoredEvent // every event, in global order
	// batches maps each batch's first global to its events' globals.
	batches map[uint64][]uint64
}

// writeSource writes about three 64 KiB segments of events over four
// entities (fewer than 128 events, so every frame has the same size):
// single events, some caused by others, and atomic batches of three.
// With checkpoint false, the checkpoint Close wrote is removed.
func writeSource(t *testing.T, checkpoint bool) *source {
	t.Helper()
	src := &source{dir: t.TempDir(), batches: map[uint64][]uint64{}}
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s, err := batpak.Open(src.dir, batpak.WithSegmentSize(64<<10), batpak.WithDurability(batpak.OnWrite),
		batpak.WithClock(func() time.Time { clock = clock.Add(time.Millisecond); return clock }))
	require.NoError(t, err)
	n := 0
	var last batpak.Receipt
	for round := range 20 {
		for e := range 4 {
			c := event.MustCoordinate(fmt.Sprintf("player:%d", e), "room:1")
			var r batpak.Receipt
			if round%3 == 1 && e == 2 {
				r, err = s.AppendReaction(bg, c, kindMoved, pl(n), last.Correlation, last.ID)
			} else {
				r, err = s.Append(bg, c, kindMoved, pl(n))
			}
			require.NoError(t, err)
			last = r
			n++
		}
		if round%4 == 2 {
			items := make([]batpak.BatchItem, 3)
			for k := range items {
				items[k] = batpak.BatchItem{Coord: event.MustCoordinate(fmt.Sprintf("player:%d", k), "room:1"), Kind: kindBatch, Payload: pl(n)}
				n++
			}
			rs, err := s.AppendBatch(bg, items)
			require.NoError(t, err)
			first := rs[0].Global
			src.batches[first] = []uint64{first, first + 1, first + 2}
		}
	}
	require.NoError(t, s.Close())
	require.Less(t, n, 128)
	src.events = readAll(t, src.dir)
	require.Len(t, src.events, n)
	require.GreaterOrEqual(t, len(segmentNames(t, src.dir)), 3)
	if !checkpoint {
		require.NoError(t, os.Remove(filepath.Join(src.dir, "CHECKPOINT")))
	}
	return src
}

// copy returns a copy of the source in a new directory, sharing its list
// of events (which the tests only read).
func (s *source) copy(t *testing.T) *source {
	t.Helper()
	c := *s
	c.dir = t.TempDir()
	entries, err := os.ReadDir(s.dir)
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(s.dir, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(c.dir, e.Name()), b, 0o644))
	}
	return &c
}

// readAll returns every event of the store in dir, opened read-only.
func readAll(t *testing.T, dir string) []*batpak.StoredEvent {
	t.Helper()
	s, err := batpak.OpenReadOnly(dir)
	require.NoError(t, err)
	defer s.Close()
	var out []*batpak.StoredEvent
	for ev, err := range s.Query(bg, batpak.Region{}) {
		require.NoError(t, err)
		out = append(out, ev)
	}
	return out
}

func segmentNames(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	require.NoError(t, err)
	slices.Sort(m)
	return m
}

// loc is where a record of the source lies.
type loc struct {
	file      string // path of its segment
	off, size int64
	typ       byte
	global    uint64 // events: their global; markers: their first
}

// records lists every record of every segment of dir, in log order.
func records(t *testing.T, dir string) []loc {
	t.Helper()
	var out []loc
	for _, name := range segmentNames(t, dir) {
		data, err := os.ReadFile(name)
		require.NoError(t, err)
		off := int64(segment.HeaderSize)
		for off < int64(len(data)) {
			body, size, err := segment.ReadFrame(data[off:])
			if err != nil {
				break
			}
			l := loc{file: name, off: off, size: int64(size), typ: body[0]}
			switch body[0] {
			case segment.TypeEvent:
				var v segment.EventView
				require.NoError(t, segment.ParseEvent(body, &v))
				l.global = v.Global
			case segment.TypeBatchBegin, segment.TypeBatchCommit:
				m, err := segment.ParseMarker(body)
				require.NoError(t, err)
				l.global = m.FirstGlobal
			}
			out = append(out, l)
			off += int64(size)
		}
	}
	return out
}

// find returns the record of type typ for global g.
func find(t *testing.T, recs []loc, typ byte, g uint64) loc {
	t.Helper()
	for _, r := range recs {
		if r.typ == typ && r.global == g {
			return r
		}
	}
	t.Fatalf("no record of type %d for global %d", typ, g)
	return loc{}
}

// patch changes a file in place.
func patch(t *testing.T, name string, f func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(name, f(b), 0o644))
}

func flipByte(t *testing.T, name string, off int64) {
	patch(t, name, func(b []byte) []byte { b[off] ^= 0x40; return b })
}

// fileState is a file's bytes and modification time.
type fileState struct {
	data  string
	mtime time.Time
}

// snapshotFiles records every file of dir.
func snapshotFiles(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	out := map[string]fileState{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		out[p] = fileState{string(b), fi.ModTime()}
		return nil
	}))
	return out
}

// sameEvent requires two events to be the same event, field by field.
func sameEvent(t *testing.T, want, got *batpak.StoredEvent) {
	t.Helper()
	require.Equal(t, want.ID, got.ID)
	require.Equal(t, want.Global, got.Global, "event %v", want.ID)
	require.Equal(t, want.Position, got.Position, "event %v", want.ID)
	require.Equal(t, want.Coordinate, got.Coordinate, "event %v", want.ID)
	require.Equal(t, want.Kind, got.Kind)
	require.Equal(t, want.Correlation, got.Correlation)
	require.Equal(t, want.Causation, got.Causation)
	require.Equal(t, want.Timestamp, got.Timestamp)
	require.Equal(t, want.Hash.Self, got.Hash.Self)
	require.Equal(t, want.IdempotencyKey, got.IdempotencyKey)
	require.Equal(t, want.Codec, got.Codec)
	require.Equal(t, want.Payload, got.Payload)
}
