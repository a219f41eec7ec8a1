package batpakrust_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/batpak-go/batpak/internal/rustenc"
	"github.com/batpak-go/batpak/migrate/batpakrust"
)

// manifest is the fixture's manifest.json: what batpak-rust 0.3.0 itself
// reported about the store it wrote.
type manifest struct {
	Crate      string          `json:"crate"`
	EventCount int             `json:"event_count"`
	Files      []string        `json:"files"`
	Notes      string          `json:"notes"`
	StoreDir   string          `json:"store_dir"`
	Events     []manifestEvent `json:"events"`
}

type manifestEvent struct {
	CausedBy       *string         `json:"caused_by"`
	CorrelationID  string          `json:"correlation_id"`
	Entity         string          `json:"entity"`
	EventHash      string          `json:"event_hash"`
	Flags          uint8           `json:"flags"`
	FrameLength    int             `json:"frame_length"`
	GlobalPosition uint64          `json:"global_position"`
	ID             string          `json:"id"`
	IDU128         string          `json:"id_u128"`
	Kind           string          `json:"kind"`
	KindCategory   uint8           `json:"kind_category"`
	KindTypeID     uint16          `json:"kind_type_id"`
	Offset         int64           `json:"offset"`
	Payload        json.RawMessage `json:"payload"`
	PayloadSize    uint32          `json:"payload_size"`
	PrevHash       string          `json:"prev_hash"`
	Scope          string          `json:"scope"`
	SegmentID      uint64          `json:"segment_id"`
	Sequence       uint64          `json:"sequence"`
	TimestampUS    int64           `json:"timestamp_us"`
	WallMS         uint64          `json:"wall_ms"`
	WrittenBy      string          `json:"written_by"`
}

// loadFixture returns the fixture's manifest (every field known: an
// unknown one fails the test, so a richer manifest cannot go unchecked)
// and its store directory.
func loadFixture(t *testing.T) (manifest, string) {
	dir := rustenc.FixtureDir(t)
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	require.NoError(t, err)
	var m manifest
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&m))
	return m, filepath.Join(dir, m.StoreDir)
}

// Every field of the manifest, for every event, matches what Scan reads
// from the segments batpak-rust wrote.
func TestFixtureEveryManifestFieldMatchesTheScan(t *testing.T) {
	m, storeDir := loadFixture(t)
	assert.Contains(t, m.Crate, "batpak 0.3.0")
	assert.Equal(t, "store", m.StoreDir)

	names, err := os.ReadDir(storeDir)
	require.NoError(t, err)
	var files []string
	for _, n := range names {
		files = append(files, n.Name())
	}
	assert.ElementsMatch(t, m.Files, files, "files")

	st, err := batpakrust.Open(storeDir)
	require.NoError(t, err)
	var got []batpakrust.Event
	var batchOf []bool
	rep, err := st.Scan(context.Background(), nil, func(u batpakrust.Unit) error {
		for _, e := range u.Events {
			got = append(got, e)
			batchOf = append(batchOf, u.Batch)
		}
		return nil
	})
	require.NoError(t, err)
	assert.True(t, rep.OK(), "report: %+v", rep)
	assert.Equal(t, m.EventCount, rep.Events)
	assert.Equal(t, 2, rep.Entities)
	assert.Equal(t, 1, rep.Batches)
	assert.Equal(t, 2, rep.Segments)
	assert.Equal(t, 2, rep.FootersChecked, "both segments are sealed")
	assert.True(t, rep.CheckpointFound)
	assert.Equal(t, m.EventCount, rep.CheckpointChecked)
	require.Len(t, got, len(m.Events))

	for i, want := range m.Events {
		e := got[i]
		msg := fmt.Sprintf("event %d", i)
		assert.Equal(t, want.ID, e.ID.String(), msg)
		assert.Equal(t, want.IDU128, new(big.Int).SetBytes(e.ID[:]).String(), msg)
		assert.Equal(t, want.CorrelationID, e.Correlation.String(), msg)
		if want.CausedBy == nil {
			assert.True(t, e.Causation.IsZero(), msg)
		} else {
			assert.Equal(t, *want.CausedBy, e.Causation.String(), msg)
		}
		assert.Equal(t, want.Entity, e.Entity, msg)
		assert.Equal(t, want.Scope, e.Scope, msg)
		assert.Equal(t, want.Kind, fmt.Sprintf("0x%04X", uint16(e.Kind)), msg)
		assert.Equal(t, want.KindCategory, e.Kind.Category(), msg)
		assert.Equal(t, want.KindTypeID, e.Kind.Type(), msg)
		assert.Equal(t, want.Flags, e.Flags, msg)
		assert.Equal(t, want.Sequence, e.Sequence, msg)
		assert.Equal(t, want.GlobalPosition, e.Global, msg)
		assert.Equal(t, want.TimestampUS, e.TimestampUS, msg)
		assert.Equal(t, want.WallMS, e.WallMS, msg)
		assert.Equal(t, want.SegmentID, e.Segment, msg)
		assert.Equal(t, want.Offset, e.Offset, msg)
		assert.Equal(t, want.FrameLength, e.FrameLength, msg)
		assert.Equal(t, want.PayloadSize, e.PayloadSize, msg)
		assert.Equal(t, want.EventHash, hex.EncodeToString(e.EventHash[:]), msg)
		assert.Equal(t, want.EventHash, hex.EncodeToString(e.ContentHash[:]), msg)
		assert.Equal(t, want.PrevHash, hex.EncodeToString(e.PrevHash[:]), msg)

		// The payload is MessagePack and decodes to the manifest's value.
		var v any
		require.NoError(t, msgpack.Unmarshal(e.Payload, &v), msg)
		pj, err := json.Marshal(v)
		require.NoError(t, err)
		assert.JSONEq(t, string(want.Payload), string(pj), msg)

		written := "append"
		switch {
		case batchOf[i]:
			written = "append_batch"
		case !e.Causation.IsZero():
			written = "append_reaction"
		}
		assert.Equal(t, want.WrittenBy, written, msg)
		assert.Equal(t, batchOf[i], e.InBatch, msg)
	}
	// The notes' claims: events 4-6 one batch, event 7 a reaction to event 0.
	assert.Contains(t, m.Notes, "events 4-6 are one atomic append_batch")
	assert.Equal(t, []bool{false, false, false, false, true, true, true, false, false, false}, batchOf)
	assert.Equal(t, got[0].ID, got[7].Causation)
	assert.Equal(t, got[0].ID, got[7].Correlation)
}

// The test encoder reproduces every byte batpak-rust wrote: segment
// headers, every frame (events and batch markers), the SIDX footers and
// index.ckpt. That is what makes the encoder's stores, which the rest of
// the tests read on a fresh clone, stand for real batpak-rust stores.
func TestFixtureTestEncoderReproducesEveryByte(t *testing.T) {
	_, storeDir := loadFixture(t)
	st, err := batpakrust.Open(storeDir)
	require.NoError(t, err)
	for _, id := range st.Segments() {
		data, err := os.ReadFile(filepath.Join(storeDir, batpakrust.SegmentName(id)))
		require.NoError(t, err)
		h, off, err := batpakrust.DecodeSegmentHeader(data)
		require.NoError(t, err)
		assert.Equal(t, data[:off], rustenc.SegmentHeader(h.SegmentID, h.CreatedNS), "segment %d header", id)
		footer, ok, err := batpakrust.DecodeFooter(data, off)
		require.NoError(t, err)
		require.True(t, ok, "segment %d is sealed", id)
		for off < int(footer.FramesEnd) {
			body, size, err := batpakrust.ReadFrame(data[off:])
			require.NoError(t, err)
			e, err := batpakrust.DecodeEvent(body)
			require.NoError(t, err)
			assert.Equal(t, data[off:off+size], rustenc.Frame(rustenc.FrameBody(toRust(&e))), "segment %d frame at %d", id, off)
			off += size
		}
		var entries []rustenc.FooterEntry
		for _, fe := range footer.Entries {
			entries = append(entries, rustenc.FooterEntry{ID: fe.ID, Entity: fe.Entity, Scope: fe.Scope, Kind: uint16(fe.Kind),
				WallMS: fe.WallMS, Clock: fe.Clock, Prev: fe.PrevHash, Self: fe.EventHash, Offset: fe.FrameOffset,
				Length: fe.FrameLength, Global: fe.Global, Correlation: fe.Correlation, Causation: fe.Causation})
		}
		assert.Equal(t, data[footer.FramesEnd:], rustenc.Footer(uint64(footer.FramesEnd), entries), "segment %d footer", id)
	}

	raw, err := os.ReadFile(filepath.Join(storeDir, batpakrust.CheckpointFile))
	require.NoError(t, err)
	c, err := batpakrust.DecodeCheckpoint(raw)
	require.NoError(t, err)
	var rows []rustenc.CheckpointEntry
	for _, ce := range c.Entries {
		r := rustenc.CheckpointEntry{ID: ce.ID, Correlation: ce.Correlation, Entity: ce.Entity, Scope: ce.Scope,
			Kind: uint16(ce.Kind), WallMS: ce.WallMS, Clock: ce.Clock, Prev: ce.PrevHash, Self: ce.EventHash,
			Segment: ce.Segment, Offset: ce.Offset, Length: ce.Length, Global: ce.Global}
		if !ce.Causation.IsZero() {
			cause := [16]byte(ce.Causation)
			r.Causation = &cause
		}
		rows = append(rows, r)
	}
	assert.Equal(t, raw, rustenc.Checkpoint(c.NextGlobal, c.WatermarkSegment, c.WatermarkOffset, rows))
	assert.Equal(t, uint64(10), c.NextGlobal)
	assert.True(t, slices.IsSortedFunc(c.Entries, func(a, b batpakrust.CheckpointEntry) int { return int(a.Global) - int(b.Global) }))
}

// toRust turns a decoded frame back into the encoder's input.
func toRust(e *batpakrust.Event) *rustenc.Event {
	r := &rustenc.Event{
		ID: e.ID, Correlation: e.Correlation, TimestampUS: e.TimestampUS, WallMS: e.WallMS, Counter: e.Counter,
		Depth: e.Depth, Lane: e.Lane, Sequence: e.Sequence, PayloadSize: e.PayloadSize, Kind: uint16(e.Kind),
		Flags: e.Flags, ContentHash: e.ContentHash, Payload: e.Payload, Entity: e.Entity, Scope: e.Scope,
	}
	if !e.Causation.IsZero() {
		c := [16]byte(e.Causation)
		r.Causation = &c
	}
	if e.HasChain {
		r.Chain = &rustenc.Chain{Prev: e.PrevHash, Self: e.EventHash}
	}
	return r
}
