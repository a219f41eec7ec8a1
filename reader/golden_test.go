package reader

import (
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// update rewrites the golden files: go test ./reader -run Golden -update
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create it")
	assert.Equal(t, string(want), string(got), "%s differs (if the change is meant, run with -update and review the diff)", path)
}

// goldenSegment is a small segment holding what a segment may hold: events
// alone and in an atomic batch, chained per entity, with and without a
// correlation, a causation, an idempotency key, flags and a codec, in two
// scopes; its sync note covers it all.
func goldenSegment() *seg {
	s := newLog().segment(1)
	s.eventIn("player:alice", "room:dungeon", kindA, "hello")
	s.eventIn("player:bob", "room:dungeon", kindB, `{"hp":7}`, func(r *segment.EventRecord) {
		r.Codec, r.Flags, r.IdemKey = event.CodecJSON, 0x0102, "bob-1"
	})
	s.marker(segment.TypeBatchBegin, 2, 3)
	s.eventIn("player:alice", "room:dungeon", kindB, "", func(r *segment.EventRecord) {
		r.Correlation, r.Causation = idOf(1), idOf(2)
	})
	s.eventIn("player:alice", "room:hall", kindA, strings.Repeat("x", 40), func(r *segment.EventRecord) {
		r.Correlation, r.Causation, r.Counter = idOf(1), idOf(3), 2
	})
	s.marker(segment.TypeBatchCommit, 2, 3)
	return s.synced(-1)
}

// TestGoldenSegmentBytes pins the bytes of goldenSegment: the layout of a
// header, its sync note, events and batch markers. A change of the on-disk
// format (which stores written by earlier versions must still open) shows
// here as a diff.
func TestGoldenSegmentBytes(t *testing.T) {
	golden(t, "segment.golden", []byte(hex.Dump(goldenSegment().data)))
}

// TestGoldenDecode pins what a RunReader decodes from goldenSegment, every
// field of every event, in the order a query reads them.
func TestGoldenDecode(t *testing.T) {
	s := goldenSegment()
	set, x := open(t, vfs.NewMem(), testDir, s)
	all := entries(x)
	r := set.Runs(x)
	defer r.Release()
	dst := make([]*event.StoredEvent, len(all))
	_, err := r.Fill(all, dst)
	require.NoError(t, err)
	var b strings.Builder
	for _, ev := range dst {
		fmt.Fprintf(&b, "event %d %s sequence %d kind %v\n", ev.Global, ev.Coordinate, ev.Sequence, ev.Kind)
		fmt.Fprintf(&b, "  id %v correlation %v causation %v\n", ev.ID, ev.Correlation, ev.Causation)
		fmt.Fprintf(&b, "  timestamp %d position %v flags %#04x codec %v idempotency %q\n",
			ev.Timestamp, ev.Position, ev.Flags, ev.Codec, ev.IdempotencyKey)
		fmt.Fprintf(&b, "  hash %x prev %x\n", ev.Hash.Self, ev.Hash.Prev)
		fmt.Fprintf(&b, "  payload %d bytes %q\n", ev.PayloadSize, ev.Payload)
	}
	golden(t, "decode.golden", []byte(b.String()))
}
