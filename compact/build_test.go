package compact

import (
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/segment"
)

// segBuilder writes a segment's bytes by hand, remembering where each
// frame went, so that a test can say "frames 2 to 5" instead of offsets.
type segBuilder struct {
	file   uint64
	buf    []byte
	frames []Range // every frame after the header, in order
	events []int   // the frame index of each event, in order
}

func newSeg(file uint64) *segBuilder {
	h := segment.EncodeHeader(segment.Header{ID: file, Created: 1})
	return &segBuilder{file: file, buf: append([]byte(nil), h[:]...)}
}

func (b *segBuilder) add(buf []byte) *segBuilder {
	b.frames = append(b.frames, Range{Off: int64(len(b.buf)), Size: int64(len(buf) - len(b.buf))})
	b.buf = buf
	return b
}

// ev appends event global of entity, its per-entity sequence seq.
func (b *segBuilder) ev(entity string, global, seq uint64) *segBuilder {
	r := &segment.EventRecord{
		ID:   testID(global),
		Kind: event.MustCustom(1, 1), Global: global, Sequence: seq,
		Timestamp: int64(global) * 1000, WallMS: uint64(global), Codec: event.CodecRaw,
		Entity: entity, Scope: "scope", Payload: []byte{byte(global), 0xAB},
	}
	buf, _ := segment.AppendEvent(b.buf, r, false, [32]byte{})
	b.events = append(b.events, len(b.frames))
	return b.add(buf)
}

func (b *segBuilder) begin(count uint32, first uint64) *segBuilder {
	return b.add(segment.AppendMarker(b.buf, segment.TypeBatchBegin, segment.Marker{Count: count, FirstGlobal: first}))
}

func (b *segBuilder) commit(count uint32, first uint64) *segBuilder {
	return b.add(segment.AppendMarker(b.buf, segment.TypeBatchCommit, segment.Marker{Count: count, FirstGlobal: first}))
}

func (b *segBuilder) compacted(c segment.CompactedRecord) *segBuilder {
	return b.add(segment.AppendCompacted(b.buf, c))
}

func (b *segBuilder) raw(body ...byte) *segBuilder { return b.add(segment.AppendFrame(b.buf, body)) }

// footer ends the segment with an index footer of its events, as the
// writer seals a segment.
func (b *segBuilder) footer() *segBuilder {
	fb := segment.NewFooterBuilder()
	var v segment.EventView
	for _, fi := range b.events {
		r := b.frames[fi]
		body, _, err := segment.ReadFrame(b.buf[r.Off:])
		if err != nil {
			panic(err)
		}
		if err := segment.ParseEventFields(body, &v); err != nil {
			panic(err)
		}
		fb.Add(&segment.FooterEntry{Entity: string(v.Entity), Scope: string(v.Scope), Kind: v.Kind,
			Global: v.Global, Sequence: v.Sequence, Offset: uint32(r.Off), Size: uint32(r.Size)})
	}
	return b.add(fb.AppendFrame(b.buf, int64(len(b.buf))))
}

func (b *segBuilder) zeros(n int) *segBuilder {
	b.buf = append(b.buf, make([]byte, n)...)
	return b
}

// span is the run of frames from to to (inclusive) as one Range.
func (b *segBuilder) span(from, to int) Range {
	return Range{Off: b.frames[from].Off, Size: b.frames[to].Off + b.frames[to].Size - b.frames[from].Off}
}

// at is the offset of frame i.
func (b *segBuilder) at(i int) int64 { return b.frames[i].Off }

// eventAt lists the offsets of the events numbered idx (in writing order).
func (b *segBuilder) eventAt(idx ...int) []uint32 {
	var out []uint32
	for _, i := range idx {
		out = append(out, uint32(b.frames[b.events[i]].Off))
	}
	return out
}

func (b *segBuilder) info() reader.SegmentInfo {
	return reader.SegmentInfo{ID: uint32(b.file), File: b.file}
}

func testID(global uint64) event.ID {
	return event.ID{0x01, 0x93, 0, 0, 0, 0, 0x70, 0, 0x80, 0, 0, 0, 0, 0, byte(global >> 8), byte(global)}
}

// dropEntities is a Retain that drops every event of the named entities.
func dropEntities(names ...string) Retain {
	return func(ev *event.StoredEvent) bool {
		for _, n := range names {
			if ev.Coordinate.Entity() == n {
				return false
			}
		}
		return true
	}
}
