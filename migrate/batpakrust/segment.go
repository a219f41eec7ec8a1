package batpakrust

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// The errors of the decoders. Every error they return wraps one of these.
var (
	// ErrMalformed marks bytes that are not what the batpak-rust format
	// puts there: a bad magic, an impossible length, a checksum that does
	// not match, a MessagePack value of the wrong type.
	ErrMalformed = errors.New("batpakrust: malformed data")
	// ErrTorn marks bytes that end inside a record.
	ErrTorn = errors.New("batpakrust: truncated record")
	// ErrNotStore is returned by Open for a directory without batpak-rust
	// segments.
	ErrNotStore = errors.New("batpakrust: no batpak-rust segments (NNNNNN.fbat) in the directory")
)

// Format constants of batpak-rust 0.3.0.
const (
	// SegmentMagic opens every segment file.
	SegmentMagic = "FBAT"
	// SegmentExt is the segment files' extension: NNNNNN.fbat, the id in
	// at least six decimal digits.
	SegmentExt = ".fbat"
	// CheckpointFile is the index checkpoint batpak-rust writes on close.
	CheckpointFile = "index.ckpt"
	// FrameHeaderSize is a frame's length and CRC fields.
	FrameHeaderSize = 8
	// MaxFrameBody is batpak-rust's own bound on a frame body (256 MiB);
	// a longer length field is damage.
	MaxFrameBody = 256 << 20
	// maxSegmentHeader bounds the segment header's MessagePack (it is
	// about 50 bytes).
	maxSegmentHeader = 4096
)

// SegmentHeader is the MessagePack map after a segment's magic and length.
type SegmentHeader struct {
	Version   uint16
	Flags     uint16
	CreatedNS int64 // creation time, ns since the Unix epoch
	SegmentID uint64
}

// ParseSegmentName returns the id of a batpak-rust segment file name
// (decimal digits, at least six, then ".fbat").
func ParseSegmentName(name string) (uint64, bool) {
	stem, ok := strings.CutSuffix(name, SegmentExt)
	if !ok || len(stem) < 6 {
		return 0, false
	}
	for _, c := range stem {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseUint(stem, 10, 64)
	return id, err == nil
}

// SegmentName is the file name batpak-rust gives segment id.
func SegmentName(id uint64) string { return fmt.Sprintf("%06d%s", id, SegmentExt) }

// DecodeSegmentHeader decodes the header at the start of a segment file
// and returns it with the offset of the first frame.
func DecodeSegmentHeader(b []byte) (SegmentHeader, int, error) {
	var h SegmentHeader
	if len(b) < 8 {
		return h, 0, fmt.Errorf("%w: %d bytes, a segment header needs at least 8", ErrTorn, len(b))
	}
	if string(b[:4]) != SegmentMagic {
		return h, 0, fmt.Errorf("%w: magic %q, want %q", ErrMalformed, b[:4], SegmentMagic)
	}
	n := binary.BigEndian.Uint32(b[4:8])
	if n > maxSegmentHeader {
		return h, 0, fmt.Errorf("%w: segment header length %d exceeds %d", ErrMalformed, n, maxSegmentHeader)
	}
	end := 8 + int(n)
	if end > len(b) {
		return h, 0, fmt.Errorf("%w: segment header of %d bytes, %d present", ErrTorn, n, len(b)-8)
	}
	d := &mp{b: b[8:end]}
	d.Fields(func(k string) {
		switch k {
		case "version":
			h.Version = uint16(d.UintMax(0xffff, "version"))
		case "flags":
			h.Flags = uint16(d.UintMax(0xffff, "flags"))
		case "created_ns":
			h.CreatedNS = d.Int()
		case "segment_id":
			h.SegmentID = d.Uint()
		default:
			d.Skip()
		}
	})
	if d.err != nil {
		return h, 0, fmt.Errorf("segment header: %w", d.err)
	}
	if h.Version != 1 {
		return h, 0, fmt.Errorf("%w: segment format version %d (batpak-rust 0.3.0 writes 1)", ErrMalformed, h.Version)
	}
	return h, end, nil
}

// ReadFrame decodes the frame at the start of b: a u32 big-endian body
// length, the body's CRC-32 (IEEE) as u32 big-endian, then the body. It
// returns the body (a sub-slice of b) and the frame's whole size.
// ErrTorn means b ends inside the frame; ErrMalformed an impossible length
// or a CRC that does not match.
func ReadFrame(b []byte) (body []byte, size int, err error) {
	if len(b) < FrameHeaderSize {
		return nil, 0, fmt.Errorf("%w: %d bytes, a frame header needs 8", ErrTorn, len(b))
	}
	n := binary.BigEndian.Uint32(b)
	if n > MaxFrameBody {
		return nil, 0, fmt.Errorf("%w: frame length %d exceeds %d", ErrMalformed, n, MaxFrameBody)
	}
	size = FrameHeaderSize + int(n)
	if size > len(b) {
		return nil, 0, fmt.Errorf("%w: frame of %d bytes, %d present", ErrTorn, size, len(b))
	}
	body = b[FrameHeaderSize:size]
	if want, got := binary.BigEndian.Uint32(b[4:]), crc32.ChecksumIEEE(body); want != got {
		return nil, size, fmt.Errorf("%w: frame CRC %08x, computed %08x", ErrMalformed, want, got)
	}
	return body, size, nil
}
