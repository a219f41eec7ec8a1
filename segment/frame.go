package segment

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// FrameHeaderSize is the size of a frame's length and checksum fields.
const FrameHeaderSize = 8

// MaxBody bounds a frame body. A length field above it is rejected before
// anything is allocated for it.
const MaxBody = 1 << 30

// Record types: the first byte of every frame body.
const (
	TypeEvent       byte = 1
	TypeBatchBegin  byte = 2
	TypeBatchCommit byte = 3
	// TypeCompacted is the first record of a segment written by compaction
	// (see compacted.go); it never appears anywhere else.
	TypeCompacted byte = 4
)

// AppendFrame appends a frame around body to dst: len(body) as u32, the
// CRC-32C of body, then body.
func AppendFrame(dst, body []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(body)))
	dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(body, castagnoli))
	return append(dst, body...)
}

// beginFrame reserves a frame header in dst and returns the offset of the
// body; finishFrame fills the header once the body is written in place, so
// records are encoded without a second copy.
func beginFrame(dst []byte) ([]byte, int) {
	return append(dst, 0, 0, 0, 0, 0, 0, 0, 0), len(dst) + FrameHeaderSize
}

func finishFrame(dst []byte, bodyStart int) []byte {
	body := dst[bodyStart:]
	binary.LittleEndian.PutUint32(dst[bodyStart-8:], uint32(len(body)))
	binary.LittleEndian.PutUint32(dst[bodyStart-4:], crc32.Checksum(body, castagnoli))
	return dst
}

// ReadFrame decodes the frame at the start of b. It returns the body (a
// sub-slice of b) and the frame's total size. ErrTorn means b ends inside the
// frame; ErrBadRecord means the length is impossible or the checksum fails.
func ReadFrame(b []byte) (body []byte, size int, err error) {
	if len(b) < FrameHeaderSize {
		return nil, 0, ErrTorn
	}
	n := binary.LittleEndian.Uint32(b)
	if n == 0 || n > MaxBody {
		return nil, 0, fmt.Errorf("%w: frame length %d", ErrBadRecord, n)
	}
	end := FrameHeaderSize + int(n)
	if end > len(b) {
		return nil, 0, ErrTorn
	}
	body = b[FrameHeaderSize:end]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return nil, 0, fmt.Errorf("%w: frame checksum mismatch", ErrBadRecord)
	}
	return body, end, nil
}

// FrameLength returns the body length a frame header announces, or 0 if b
// is too short to hold one.
func FrameLength(b []byte) uint32 {
	if len(b) < FrameHeaderSize {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

// MaxBatchCount is the most events a batch marker may announce: a larger
// count is malformed.
const MaxBatchCount = 1 << 31

// Marker is a batch BEGIN or COMMIT record: the number of events in the
// batch and the global sequence of its first event. BEGIN and COMMIT of one
// batch carry the same values, which recovery checks.
type Marker struct {
	Count       uint32
	FirstGlobal uint64
}

// AppendMarker appends a BEGIN (TypeBatchBegin) or COMMIT (TypeBatchCommit) frame.
func AppendMarker(dst []byte, typ byte, m Marker) []byte {
	dst, start := beginFrame(dst)
	dst = append(dst, typ)
	dst = binary.AppendUvarint(dst, uint64(m.Count))
	dst = binary.AppendUvarint(dst, m.FirstGlobal)
	return finishFrame(dst, start)
}

// ParseMarker decodes a BEGIN or COMMIT body.
func ParseMarker(body []byte) (Marker, error) {
	if len(body) < 1 || (body[0] != TypeBatchBegin && body[0] != TypeBatchCommit) {
		return Marker{}, fmt.Errorf("%w: not a batch marker", ErrBadRecord)
	}
	r := reader{b: body, i: 1}
	count := r.uvarint()
	first := r.uvarint()
	if r.err != nil || r.i != len(body) || count == 0 || count > MaxBatchCount {
		return Marker{}, fmt.Errorf("%w: malformed batch marker", ErrBadRecord)
	}
	return Marker{Count: uint32(count), FirstGlobal: first}, nil
}

// MarkerSize is the encoded frame size of m, for sizing buffers.
func MarkerSize(m Marker) int {
	return FrameHeaderSize + 1 + uvarintLen(uint64(m.Count)) + uvarintLen(m.FirstGlobal)
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// reader decodes fields from a body, remembering the first error so call
// sites stay flat.
type reader struct {
	b   []byte
	i   int
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = fmt.Errorf("%w: truncated field at byte %d", ErrBadRecord, r.i)
	}
	r.i = len(r.b)
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b[r.i:])
	if n <= 0 {
		r.fail()
		return 0
	}
	r.i += n
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b[r.i:])
	if n <= 0 {
		r.fail()
		return 0
	}
	r.i += n
	return v
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || r.i+n > len(r.b) {
		r.fail()
		return nil
	}
	s := r.b[r.i : r.i+n]
	r.i += n
	return s
}

func (r *reader) u16() uint16 {
	s := r.bytes(2)
	if s == nil {
		return 0
	}
	return binary.LittleEndian.Uint16(s)
}

func (r *reader) u64() uint64 {
	s := r.bytes(8)
	if s == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(s)
}

// lenPrefixed reads a uvarint length and that many bytes, bounded by max.
func (r *reader) lenPrefixed(max int) []byte {
	n := r.uvarint()
	if n > uint64(max) {
		r.fail()
		return nil
	}
	return r.bytes(int(n))
}
