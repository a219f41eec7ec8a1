package compact

import (
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/segment"
)

// mixed is a segment of singles and one batch: a1, BEGIN, b2, c3, COMMIT, b4.
func mixed() *segBuilder {
	return newSeg(7).ev("a", 1, 0).begin(2, 2).ev("b", 2, 0).ev("c", 3, 0).commit(2, 2).ev("b", 4, 1)
}

func TestPlanSegmentDecidesWhichFramesStay(t *testing.T) {
	threeSingles := func() *segBuilder { return newSeg(3).ev("a", 1, 0).ev("b", 2, 0).ev("a", 3, 1) }
	tests := []struct {
		name        string
		seg         *segBuilder
		retain      Retain
		ranges      func(b *segBuilder) []Range
		kept        []int // events, by writing order
		dropped     []int
		lost        []string
		first, last uint64
	}{
		{
			name: "nil Retain keeps every event, each single its own range",
			seg:  threeSingles(), retain: nil,
			ranges: func(b *segBuilder) []Range { return []Range{b.span(0, 0), b.span(1, 1), b.span(2, 2)} },
			kept:   []int{0, 1, 2}, first: 1, last: 3,
		},
		{
			name: "a dropped single leaves a gap and names its entity",
			seg:  threeSingles(), retain: dropEntities("b"),
			ranges:  func(b *segBuilder) []Range { return []Range{b.span(0, 0), b.span(2, 2)} },
			kept:    []int{0, 2},
			dropped: []int{1}, lost: []string{"b"}, first: 1, last: 3,
		},
		{
			name: "a batch with one kept event stays whole, BEGIN to COMMIT in one range",
			seg:  mixed(), retain: dropEntities("b"),
			ranges:  func(b *segBuilder) []Range { return []Range{b.span(0, 0), b.span(1, 4)} },
			kept:    []int{0, 1, 2},
			dropped: []int{3}, lost: []string{"b"}, first: 1, last: 4,
		},
		{
			name: "a batch with no kept event goes whole",
			seg:  mixed(), retain: dropEntities("b", "c"),
			ranges:  func(b *segBuilder) []Range { return []Range{b.span(0, 0)} },
			kept:    []int{0},
			dropped: []int{1, 2, 3}, lost: []string{"b", "c"}, first: 1, last: 4,
		},
		{
			name: "retention of everything leaves nothing to copy but keeps the global range",
			seg:  mixed(), retain: func(*event.StoredEvent) bool { return false },
			ranges:  func(*segBuilder) []Range { return nil },
			dropped: []int{0, 1, 2, 3}, lost: []string{"a", "b", "c"}, first: 1, last: 4,
		},
		{
			name: "a footer at the end is not copied",
			seg:  threeSingles().footer(), retain: dropEntities("a"),
			ranges:  func(b *segBuilder) []Range { return []Range{b.span(1, 1)} },
			kept:    []int{1},
			dropped: []int{0, 2}, lost: []string{"a"}, first: 1, last: 3,
		},
		{
			name: "zeros after the last frame are unused space",
			seg:  threeSingles().zeros(300), retain: nil,
			ranges: func(b *segBuilder) []Range { return []Range{b.span(0, 0), b.span(1, 1), b.span(2, 2)} },
			kept:   []int{0, 1, 2}, first: 1, last: 3,
		},
		{
			name: "an empty segment plans to nothing",
			seg:  newSeg(9), retain: nil,
			ranges: func(*segBuilder) []Range { return nil },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := PlanSegment(tt.seg.info(), tt.seg.buf, tt.retain)
			require.NoError(t, err)
			want := tt.ranges(tt.seg)
			assert.Equal(t, want, p.Ranges(), "ranges")
			assert.Equal(t, tt.seg.eventAt(tt.kept...), p.Kept(), "kept")
			assert.Equal(t, tt.seg.eventAt(tt.dropped...), p.Dropped(), "dropped")
			assert.Equal(t, tt.lost, sortedKeys(p.lost), "lost entities")
			assert.Equal(t, uint64(len(tt.dropped)), p.gone, "dropped count")
			assert.Equal(t, tt.first, p.first, "first global")
			assert.Equal(t, tt.last, p.last, "last global")
			var bytes int64
			for _, r := range want {
				bytes += r.Size
			}
			assert.Equal(t, bytes, p.Bytes(), "bytes to copy")
			assert.Equal(t, tt.seg.file, p.through, "a plain segment stands for itself")
			assert.Nil(t, p.prior)
		})
	}
}

func sortedKeys(m map[string]struct{}) []string {
	if len(m) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(m))
}

func TestPlanSegmentCarriesAPriorCompactionRecord(t *testing.T) {
	prior := segment.CompactedRecord{Through: 12, FirstGlobal: 1, LastGlobal: 30, Dropped: 5}
	b := newSeg(10).compacted(prior).ev("a", 4, 2).ev("b", 20, 0)
	p, err := PlanSegment(b.info(), b.buf, dropEntities("b"))
	require.NoError(t, err)
	require.NotNil(t, p.prior)
	assert.Equal(t, prior, *p.prior)
	assert.Equal(t, uint64(12), p.through, "the file stands for the run it replaced")
	assert.Equal(t, uint64(1), p.first, "the range is the prior record's, not just the events left")
	assert.Equal(t, uint64(30), p.last)
	assert.Equal(t, []Range{b.span(1, 1)}, p.Ranges(), "the old record is not copied: Encode writes a new one")
	assert.Equal(t, b.eventAt(0), p.Kept())
}

func TestPlanSegmentReportsDamageWhereItIs(t *testing.T) {
	tests := []struct {
		name      string
		seg       func() *segBuilder
		at        int  // frame whose offset the error names
		badRecord bool // the error also matches segment.ErrBadRecord
	}{
		{"global order goes back", func() *segBuilder { return newSeg(1).ev("a", 5, 0).ev("a", 5, 1) }, 1, true},
		{"a footer before the end", func() *segBuilder { return newSeg(1).ev("a", 1, 0).footer().ev("a", 2, 1) }, 1, true},
		{"BEGIN inside a batch", func() *segBuilder { return newSeg(1).begin(1, 1).ev("a", 1, 0).begin(1, 2) }, 2, true},
		{"COMMIT with a count its batch does not have", func() *segBuilder { return newSeg(1).begin(2, 1).ev("a", 1, 0).commit(2, 1) }, 2, true},
		{"COMMIT without BEGIN", func() *segBuilder { return newSeg(1).ev("a", 1, 0).commit(1, 1) }, 1, true},
		{"a sealed segment ending inside a batch", func() *segBuilder { return newSeg(1).ev("a", 1, 0).begin(1, 2).ev("a", 2, 1) }, 1, true},
		{"a compaction record after the first frame", func() *segBuilder {
			return newSeg(1).ev("a", 1, 0).compacted(segment.CompactedRecord{Through: 1, FirstGlobal: 1, LastGlobal: 1})
		}, 1, true},
		{"an unknown record type", func() *segBuilder { return newSeg(1).ev("a", 1, 0).raw(0x7f, 1, 2) }, 1, true},
		{"a frame whose CRC does not match", func() *segBuilder {
			b := newSeg(1).ev("a", 1, 0).ev("a", 2, 1).ev("a", 3, 2)
			b.buf[b.at(1)+segment.FrameHeaderSize+4] ^= 0xFF
			return b
		}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.seg()
			_, err := PlanSegment(b.info(), b.buf, nil)
			var ce *event.CorruptionError
			require.ErrorAs(t, err, &ce)
			assert.ErrorIs(t, err, event.ErrCorrupt)
			assert.Equal(t, b.file, ce.Segment)
			assert.Equal(t, b.at(tt.at), ce.Offset)
			assert.Equal(t, int64(len(b.buf))-b.at(tt.at), ce.Lost)
			if tt.badRecord {
				assert.True(t, errors.Is(err, segment.ErrBadRecord), "%v should match ErrBadRecord", err)
			}
		})
	}
}

func TestGroupMergesRunsThatFitTheTarget(t *testing.T) {
	// plan stands for a planned segment: what it keeps, and how many
	// events it loses.
	type plan struct {
		bytes int64
		drops int
	}
	tests := []struct {
		name   string
		plans  []plan
		target int64
		want   [][]int // indexes into plans
	}{
		{"one segment with nothing to drop is left alone", []plan{{100, 0}}, 100, nil},
		{"one segment that loses events is rewritten alone", []plan{{50, 1}}, 100, [][]int{{0}}},
		{"small segments merge while they fit", []plan{{30, 0}, {30, 0}, {30, 0}}, 100, [][]int{{0, 1, 2}}},
		{"an exact fit still merges", []plan{{50, 0}, {50, 0}}, 100, [][]int{{0, 1}}},
		{"a run ends where the next would not fit", []plan{{60, 0}, {30, 0}, {30, 0}, {60, 0}}, 100, [][]int{{0, 1}, {2, 3}}},
		{"a segment above the target stands alone, untouched", []plan{{150, 0}, {10, 0}, {10, 0}}, 100, [][]int{{1, 2}}},
		{"a big segment that loses events is rewritten alone", []plan{{150, 2}, {10, 0}}, 100, [][]int{{0}}},
		{"segments emptied by retention merge into their neighbours", []plan{{0, 5}, {0, 5}, {80, 0}}, 100, [][]int{{0, 1, 2}}},
		{"no segments, no groups", nil, 100, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			segs := make([]*Segment, len(tt.plans))
			for i, p := range tt.plans {
				segs[i] = &Segment{bytes: p.bytes, dropped: make([]uint32, p.drops)}
			}
			var got [][]int
			for _, g := range Group(segs, tt.target) {
				var idx []int
				for _, s := range g {
					idx = append(idx, slices.Index(segs, s))
				}
				got = append(got, idx)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestRecordCoversTheGroup(t *testing.T) {
	prior := &segment.CompactedRecord{Through: 6, FirstGlobal: 10, LastGlobal: 40, Dropped: 7}
	tests := []struct {
		name  string
		group []*Segment
		want  segment.CompactedRecord
	}{
		{
			name:  "plain segments",
			group: []*Segment{{through: 3, first: 1, last: 9, gone: 2}, {through: 4, first: 10, last: 15}},
			want:  segment.CompactedRecord{Through: 4, FirstGlobal: 1, LastGlobal: 15, Dropped: 2},
		},
		{
			name:  "a segment compaction wrote before adds what it dropped then",
			group: []*Segment{{through: 6, first: 10, last: 40, prior: prior, gone: 1}, {through: 7, first: 41, last: 50, gone: 3}},
			want:  segment.CompactedRecord{Through: 7, FirstGlobal: 10, LastGlobal: 50, Dropped: 7 + 1 + 3},
		},
		{
			name:  "a segment that held nothing does not lower the range",
			group: []*Segment{{through: 2}, {through: 3, first: 5, last: 8}},
			want:  segment.CompactedRecord{Through: 3, FirstGlobal: 5, LastGlobal: 8},
		},
		{
			name:  "nothing held at all",
			group: []*Segment{{through: 2}, {through: 3}},
			want:  segment.CompactedRecord{Through: 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Record(tt.group))
		})
	}
}

// TestEncodeCopiesKeptFramesByteForByte: the file replacing a group starts
// with a header of the group's first id and the group's record, holds every
// kept frame unchanged where newAt says, ends with a footer naming those
// offsets, and its sync note covers it whole. Planned again, it keeps the
// same events.
func TestEncodeCopiesKeptFramesByteForByte(t *testing.T) {
	s1 := mixed()
	s2 := newSeg(8).ev("c", 5, 1).ev("b", 6, 2).ev("a", 7, 1).footer()
	var g []*Segment
	for _, b := range []*segBuilder{s1, s2} {
		p, err := PlanSegment(b.info(), b.buf, dropEntities("b"))
		require.NoError(t, err)
		g = append(g, p)
	}
	buf, newAt, _, err := Encode(g, 12345)
	require.NoError(t, err)

	h, err := segment.DecodeHeader(buf)
	require.NoError(t, err)
	assert.Equal(t, uint64(7), h.ID)
	assert.Equal(t, int64(12345), h.Created)
	end, ok := segment.DecodeSyncNote(buf)
	require.True(t, ok)
	assert.Equal(t, int64(len(buf)), end)
	rec, ok := segment.ReadCompacted(buf, 7)
	require.True(t, ok)
	assert.Equal(t, Record(g), rec)
	assert.Equal(t, segment.CompactedRecord{Through: 8, FirstGlobal: 1, LastGlobal: 7, Dropped: 2}, rec)

	require.Len(t, newAt, 5) // a1, b2, c3 (batch kept whole), c5, a7
	i := 0
	for k, p := range g {
		src := []*segBuilder{s1, s2}[k].buf
		for _, off := range p.Kept() {
			_, size, err := segment.ReadFrame(src[off:])
			require.NoError(t, err)
			assert.Equal(t, src[off:int(off)+size], buf[newAt[i]:int(newAt[i])+size], "kept event %d", i)
			i++
		}
	}

	f, err := segment.DecodeFooter(buf)
	require.NoError(t, err)
	var offs []uint32
	for _, e := range f.Entries {
		offs = append(offs, e.Offset)
	}
	assert.Equal(t, newAt, offs, "the footer names the new offsets")

	again, err := PlanSegment(g[0].Info(), buf, nil)
	require.NoError(t, err)
	assert.Equal(t, newAt, again.Kept())
	assert.Empty(t, again.Dropped())
	require.NotNil(t, again.prior)
	assert.Equal(t, rec, *again.prior)
}

// tombstoneEntities picks every event of the named entities.
func tombstoneEntities(names ...string) func(*event.StoredEvent) bool {
	keep := dropEntities(names...)
	return func(ev *event.StoredEvent) bool { return !keep(ev) }
}

// Tombstones replace their events' frames in the new file: same record but
// kind and payload, the same hash slot; every other kept frame is copied
// byte for byte, the batch keeps its markers and items, and the footer,
// offsets and sizes describe the frames as written.
func TestEncodeWritesTombstonesInPlace(t *testing.T) {
	b := mixed() // a1, BEGIN, b2, c3, COMMIT, b4
	p, err := Rules{Tombstone: tombstoneEntities("b")}.PlanSegment(b.info(), b.buf)
	require.NoError(t, err)
	assert.Equal(t, b.eventAt(0, 1, 2, 3), p.Kept(), "tombstoning drops nothing")
	assert.Empty(t, p.Dropped())
	assert.Equal(t, b.eventAt(1, 3), p.Tombstoned())
	require.Len(t, Group([]*Segment{p}, 1<<20), 1, "a segment with tombstones alone is rewritten")

	buf, newAt, newSize, err := Encode([]*Segment{p}, 1)
	require.NoError(t, err)
	require.Len(t, newAt, 4)
	require.Len(t, newSize, 4)
	var old, got segment.EventView
	for i, off := range p.Kept() {
		oldBody, oldSize, err := segment.ReadFrame(b.buf[off:])
		require.NoError(t, err)
		body, size, err := segment.ReadFrame(buf[newAt[i]:])
		require.NoError(t, err)
		assert.Equal(t, uint32(size), newSize[i])
		if i != 1 && i != 3 {
			assert.Equal(t, b.buf[off:int(off)+oldSize], buf[newAt[i]:int(newAt[i])+size], "event %d copied byte for byte", i)
			continue
		}
		require.NoError(t, segment.ParseEvent(oldBody, &old))
		require.NoError(t, segment.ParseEvent(body, &got))
		assert.True(t, segment.IsTombstone(&got), "event %d", i)
		assert.Empty(t, got.Payload)
		want := old
		want.Kind, want.Codec, want.Payload = event.KindTombstone, event.CodecRaw, got.Payload
		assert.Equal(t, want, got, "event %d keeps everything but kind and payload", i)
	}
	// The batch is still BEGIN, b2's tombstone, c3, COMMIT: one run.
	again, err := Rules{Tombstone: tombstoneEntities("b")}.PlanSegment(reader.SegmentInfo{ID: 7, File: 7}, buf)
	require.NoError(t, err, "the new file plans cleanly (the batch is whole)")
	assert.Empty(t, again.Tombstoned(), "a tombstone is not offered again")
	assert.Equal(t, newAt, again.Kept())

	f, err := segment.DecodeFooter(buf)
	require.NoError(t, err)
	require.Len(t, f.Entries, 4)
	for i, e := range f.Entries {
		assert.Equal(t, newAt[i], e.Offset)
		assert.Equal(t, newSize[i], e.Size)
	}
	assert.Equal(t, event.KindTombstone, f.Entries[1].Kind)
	assert.Equal(t, event.KindTombstone, f.Entries[3].Kind)
	assert.Equal(t, event.MustCustom(1, 1), f.Entries[2].Kind)
	assert.Equal(t, int64(f.At)-segment.HeaderSize-compactedRecordSize(t, buf), p.Bytes(),
		"Bytes counts the frames as written, between the compaction record and the footer")
}

// compactedRecordSize is the size of the compaction record frame after the header.
func compactedRecordSize(t *testing.T, buf []byte) int64 {
	_, size, err := segment.ReadFrame(buf[segment.HeaderSize:])
	require.NoError(t, err)
	return int64(size)
}

// Retain decides first: an event it drops is not tombstoned, and a batch
// kept whole for one item keeps its other items, tombstoned if picked.
func TestPlanRetainsBeforeTombstoning(t *testing.T) {
	b := mixed() // a1, BEGIN, b2, c3, COMMIT, b4
	p, err := Rules{Retain: dropEntities("b"), Tombstone: tombstoneEntities("b", "c")}.PlanSegment(b.info(), b.buf)
	require.NoError(t, err)
	assert.Equal(t, b.eventAt(0, 1, 2), p.Kept(), "the batch stays whole for c3")
	assert.Equal(t, b.eventAt(3), p.Dropped())
	assert.Equal(t, b.eventAt(1, 2), p.Tombstoned(), "the batch's items, not the dropped b4")
}
