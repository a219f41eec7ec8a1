// Package rustenc writes stores in the format of batpak-rust 0.3.0, for
// tests: the import tests of package batpakrust and of the command-line
// tool build the stores they read with it, damaged and unfinished ones
// included, so they run without a store written by batpak-rust itself.
//
// It is written from the format as observed in such a store (see package
// batpakrust's documentation), independently of batpakrust's decoder, and
// a test that runs when the shared fixture is present re-encodes the
// fixture's frames, footers and checkpoint with it byte for byte.
package rustenc

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/zeebo/blake3"
)

// Kinds of the batch marker frames.
const (
	KindBatchBegin  uint16 = 0x0006
	KindBatchCommit uint16 = 0x0007
)

// Event is everything one frame holds.
type Event struct {
	ID, Correlation [16]byte
	Causation       *[16]byte
	TimestampUS     int64
	WallMS          uint64
	Counter         uint32
	Depth, Lane     uint32
	Sequence        uint64
	PayloadSize     uint32
	Kind            uint16
	Flags           uint8
	ContentHash     [32]byte
	Payload         []byte
	// Chain is nil for a frame without hash_chain (batch markers).
	Chain  *Chain
	Entity string
	Scope  string
}

// Chain is a frame's hash_chain.
type Chain struct{ Prev, Self [32]byte }

// Hash is the event hash batpak-rust computes: Blake3 of the payload.
func Hash(payload []byte) [32]byte { return blake3.Sum256(payload) }

type enc struct {
	buf bytes.Buffer
	e   *msgpack.Encoder
}

func newEnc() *enc {
	x := &enc{}
	x.e = msgpack.NewEncoder(&x.buf)
	return x
}

// The msgpack encoder writes into a bytes.Buffer, which never fails.
func (x *enc) mapLen(n int)   { _ = x.e.EncodeMapLen(n) }
func (x *enc) str(s string)   { _ = x.e.EncodeString(s) }
func (x *enc) uint(v uint64)  { _ = x.e.EncodeUint(v) }
func (x *enc) int(v int64)    { _ = x.e.EncodeInt(v) }
func (x *enc) bin(b []byte)   { _ = x.e.EncodeBytes(b) }
func (x *enc) null()          { _ = x.e.EncodeNil() }
func (x *enc) arrayLen(n int) { _ = x.e.EncodeArrayLen(n) }
func (x *enc) key(k string)   { x.str(k) }
func (x *enc) bytes() []byte  { return x.buf.Bytes() }
func (x *enc) strs(s []string) {
	x.arrayLen(len(s))
	for _, v := range s {
		x.str(v)
	}
}

// ints writes bytes the way rmp-serde writes a Vec<u8> or [u8; N]: an
// array of integers.
func (x *enc) ints(b []byte) {
	x.arrayLen(len(b))
	for _, c := range b {
		x.uint(uint64(c))
	}
}

// FrameBody encodes e as rmp-serde writes a FramePayload: named maps, the
// header's fields in declaration order.
func FrameBody(e *Event) []byte {
	x := newEnc()
	x.mapLen(3)
	x.key("event")
	x.mapLen(3)
	x.key("header")
	x.mapLen(9)
	x.key("event_id")
	x.bin(e.ID[:])
	x.key("correlation_id")
	x.bin(e.Correlation[:])
	x.key("causation_id")
	if e.Causation == nil {
		x.null()
	} else {
		x.bin(e.Causation[:])
	}
	x.key("timestamp_us")
	x.int(e.TimestampUS)
	x.key("position")
	x.mapLen(5)
	x.key("wall_ms")
	x.uint(e.WallMS)
	x.key("counter")
	x.uint(uint64(e.Counter))
	x.key("depth")
	x.uint(uint64(e.Depth))
	x.key("lane")
	x.uint(uint64(e.Lane))
	x.key("sequence")
	x.uint(e.Sequence)
	x.key("payload_size")
	x.uint(uint64(e.PayloadSize))
	x.key("event_kind")
	x.uint(uint64(e.Kind))
	x.key("flags")
	x.uint(uint64(e.Flags))
	x.key("content_hash")
	x.ints(e.ContentHash[:])
	x.key("payload")
	x.ints(e.Payload)
	x.key("hash_chain")
	if e.Chain == nil {
		x.null()
	} else {
		x.mapLen(2)
		x.key("prev_hash")
		x.ints(e.Chain.Prev[:])
		x.key("event_hash")
		x.ints(e.Chain.Self[:])
	}
	x.key("entity")
	x.str(e.Entity)
	x.key("scope")
	x.str(e.Scope)
	return bytes.Clone(x.bytes())
}

// Frame wraps a body: u32 BE length, u32 BE CRC-32 (IEEE), the body.
func Frame(body []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(body))
	return append(out, body...)
}

// SegmentHeader encodes a segment's magic, header length and header.
func SegmentHeader(id uint64, createdNS int64) []byte {
	x := newEnc()
	x.mapLen(4)
	x.key("version")
	x.uint(1)
	x.key("flags")
	x.uint(0)
	x.key("created_ns")
	x.int(createdNS)
	x.key("segment_id")
	x.uint(id)
	out := append([]byte("FBAT"), binary.BigEndian.AppendUint32(nil, uint32(x.buf.Len()))...)
	return append(out, x.bytes()...)
}

// FooterEntry is one event's SIDX entry.
type FooterEntry struct {
	ID                     [16]byte
	Entity, Scope          string
	Kind                   uint16
	WallMS                 uint64
	Clock                  uint32
	Prev, Self             [32]byte
	Offset                 uint64
	Length                 uint32
	Global                 uint64
	Correlation, Causation [16]byte
}

// Footer encodes a SIDX footer for a segment whose frames end at
// framesEnd: the string table (entity and scope names in order of first
// use), the 154-byte entries, the table's offset, the count and "SIDX".
func Footer(framesEnd uint64, entries []FooterEntry) []byte {
	names, ids := internNames(nil, len(entries), func(i int) (string, string) { return entries[i].Entity, entries[i].Scope })
	x := newEnc()
	x.strs(names)
	out := bytes.Clone(x.bytes())
	le := binary.LittleEndian
	for i, e := range entries {
		out = appendLE128(out, e.ID)
		out = le.AppendUint32(out, uint32(ids[i].entity))
		out = le.AppendUint32(out, uint32(ids[i].scope))
		out = le.AppendUint16(out, e.Kind)
		out = le.AppendUint64(out, e.WallMS)
		out = le.AppendUint32(out, e.Clock)
		out = append(out, e.Prev[:]...)
		out = append(out, e.Self[:]...)
		out = le.AppendUint64(out, e.Offset)
		out = le.AppendUint32(out, e.Length)
		out = le.AppendUint64(out, e.Global)
		out = appendLE128(out, e.Correlation)
		out = appendLE128(out, e.Causation)
	}
	out = le.AppendUint64(out, framesEnd)
	out = le.AppendUint32(out, uint32(len(entries)))
	return append(out, "SIDX"...)
}

// nameIDs are an entry's entity and scope as indexes into a string table.
type nameIDs struct{ entity, scope uint64 }

// internNames builds the string table both batpak-rust encodings use: the
// names of n entries (entity and scope of entry i from names), each once,
// in order of first use after those of table.
func internNames(table []string, n int, names func(i int) (entity, scope string)) ([]string, []nameIDs) {
	index := make(map[string]uint64, len(table))
	for i, s := range table {
		index[s] = uint64(i)
	}
	intern := func(s string) uint64 {
		if i, ok := index[s]; ok {
			return i
		}
		index[s] = uint64(len(table))
		table = append(table, s)
		return index[s]
	}
	ids := make([]nameIDs, n)
	for i := range ids {
		entity, scope := names(i)
		ids[i] = nameIDs{intern(entity), intern(scope)}
	}
	return table, ids
}

func appendLE128(dst []byte, id [16]byte) []byte {
	for i := 15; i >= 0; i-- {
		dst = append(dst, id[i])
	}
	return dst
}

// CheckpointEntry is one event's row in index.ckpt.
type CheckpointEntry struct {
	ID, Correlation [16]byte
	Causation       *[16]byte
	Entity, Scope   string
	Kind            uint16
	WallMS          uint64
	Clock           uint64
	Prev, Self      [32]byte
	Segment         uint64
	Offset          uint64
	Length          uint64
	Global          uint64
}

// Checkpoint encodes an index.ckpt: "FBATCK", version 2 (u16 LE), the
// CRC-32 of the rest (u32 LE), then the MessagePack map. Names are
// interned in order of first use after an empty string at index 0.
func Checkpoint(nextGlobal, wmSegment, wmOffset uint64, entries []CheckpointEntry) []byte {
	names, ids := internNames([]string{""}, len(entries), func(i int) (string, string) { return entries[i].Entity, entries[i].Scope })
	x := newEnc()
	x.mapLen(5)
	x.key("global_sequence")
	x.uint(nextGlobal)
	x.key("watermark_segment_id")
	x.uint(wmSegment)
	x.key("watermark_offset")
	x.uint(wmOffset)
	x.key("interner_strings")
	x.strs(names)
	x.key("entries")
	x.arrayLen(len(entries))
	for i, e := range entries {
		x.mapLen(14)
		x.key("event_id")
		x.bin(e.ID[:])
		x.key("correlation_id")
		x.bin(e.Correlation[:])
		x.key("causation_id")
		if e.Causation == nil {
			x.null()
		} else {
			x.bin(e.Causation[:])
		}
		x.key("entity_id")
		x.uint(ids[i].entity)
		x.key("scope_id")
		x.uint(ids[i].scope)
		x.key("kind")
		x.uint(uint64(e.Kind))
		x.key("wall_ms")
		x.uint(e.WallMS)
		x.key("clock")
		x.uint(e.Clock)
		x.key("prev_hash")
		x.ints(e.Prev[:])
		x.key("event_hash")
		x.ints(e.Self[:])
		x.key("segment_id")
		x.uint(e.Segment)
		x.key("offset")
		x.uint(e.Offset)
		x.key("length")
		x.uint(e.Length)
		x.key("global_sequence")
		x.uint(e.Global)
	}
	body := x.bytes()
	out := append([]byte("FBATCK"), 2, 0)
	out = binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(body))
	return append(out, body...)
}
