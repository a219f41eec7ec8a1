package keyring

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// The keyset file (docs/FORMAT.md, "Keyset"):
//
//	magic   8  "BPKEYS1\n"
//	frames  …  each: u32 body length, u32 CRC-32C of the body, body
//
// The first frame is the header, every later one a block of keys:
//
//	header  0x01, check (uvarint length + bytes): 32 random bytes wrapped
//	        with the check's associated data; only the right wrapper
//	        unwraps it
//	block   0x02, next (uvarint: every key number below it was given
//	        out), count (uvarint), count × (number uvarint, wrapped
//	        key: uvarint length + bytes)
//
// Blocks are appended and fsynced before any of their keys is used; a
// shred rewrites the whole file without the shredded keys (temporary
// file, fsync, rename, directory fsync).
const (
	// Name is the keyset's file name in the store directory.
	Name = "KEYS"
	// TempName is the rewrite's temporary file (Name + ".tmp"); Open
	// removes a leftover one.
	TempName = Name + ".tmp"

	magic       = "BPKEYS1\n"
	typeHeader  = 0x01
	typeBlock   = 0x02
	frameHeader = 8
	// maxFrame bounds one frame's body; a rewrite splits its keys into
	// blocks that fit.
	maxFrame = 1 << 20
	// maxWrapped bounds one wrapped key (and the check value).
	maxWrapped = 4096
)

// Associated data of the wrapped values: the check, and each data key by
// its number, so a wrapped key moved to another number does not unwrap.
const (
	checkAAD = "batpak keyset check 1\x00"
	keyAAD   = "batpak data key 1\x00"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrDamaged is matched by the error for a keyset file that is not whole
// (a bad header, a bad frame before the last one).
var ErrDamaged = errors.New("batpak: keyset damaged")

func wrappedKeyAAD(n uint64) []byte {
	return binary.LittleEndian.AppendUint64([]byte(keyAAD), n)
}

// appendFrame appends a frame around body to dst.
func appendFrame(dst, body []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(body)))
	dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(body, castagnoli))
	return append(dst, body...)
}

func encodeHeader(check []byte) []byte {
	body := []byte{typeHeader}
	body = binary.AppendUvarint(body, uint64(len(check)))
	body = append(body, check...)
	return appendFrame([]byte(magic), body)
}

// wrappedKey is one key of a block: its number and wrapped bytes.
type wrappedKey struct {
	n       uint64
	wrapped []byte
}

// appendBlocks appends keys as blocks of at most maxFrame bytes each, every
// one recording next. Without keys it appends one empty block: next must
// survive a shred of every key the file held, or key numbers would be
// given out again, and a shredded payload would find another key under
// its number.
func appendBlocks(dst []byte, next uint64, keys []wrappedKey) []byte {
	for first := true; first || len(keys) > 0; first = false {
		size, n := 0, 0
		for n < len(keys) && (n == 0 || size+len(keys[n].wrapped)+2*binary.MaxVarintLen64 <= maxFrame-64) {
			size += len(keys[n].wrapped) + 2*binary.MaxVarintLen64
			n++
		}
		body := []byte{typeBlock}
		body = binary.AppendUvarint(body, next)
		body = binary.AppendUvarint(body, uint64(n))
		for _, k := range keys[:n] {
			body = binary.AppendUvarint(body, k.n)
			body = binary.AppendUvarint(body, uint64(len(k.wrapped)))
			body = append(body, k.wrapped...)
		}
		dst = appendFrame(dst, body)
		keys = keys[n:]
	}
	return dst
}

// parsed is a keyset file as read: the check value, every key, the
// numbering mark, and where the valid frames end (a torn last frame
// starts there).
type parsed struct {
	check []byte
	keys  map[uint64][]byte
	next  uint64
	end   int64
	torn  bool
}

// readFrame decodes the frame at b[0:]: body, size, or ok false if the
// frame is not whole and valid.
func readFrame(b []byte) (body []byte, size int, ok bool) {
	if len(b) < frameHeader {
		return nil, 0, false
	}
	n := binary.LittleEndian.Uint32(b)
	if n == 0 || n > maxFrame || int64(n) > int64(len(b)-frameHeader) {
		return nil, 0, false
	}
	body = b[frameHeader : frameHeader+int(n)]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return nil, 0, false
	}
	return body, frameHeader + int(n), true
}

// parseHeader checks the magic and the header frame and returns the check
// value and the header's end.
func parseHeader(b []byte) ([]byte, int, error) {
	if len(b) < len(magic) || string(b[:len(magic)]) != magic {
		return nil, 0, fmt.Errorf("%w: not a keyset file", ErrDamaged)
	}
	body, size, ok := readFrame(b[len(magic):])
	if !ok || body[0] != typeHeader {
		return nil, 0, fmt.Errorf("%w: bad header", ErrDamaged)
	}
	n, k := binary.Uvarint(body[1:])
	if k <= 0 || n == 0 || n > maxWrapped || uint64(len(body)-1-k) != n {
		return nil, 0, fmt.Errorf("%w: bad header", ErrDamaged)
	}
	return body[1+k:], len(magic) + size, nil
}

// parse reads a whole keyset file. A last frame that is not whole — cut
// short, or never written (its length zero or running past the end) — is
// a torn append: the keys in it were never used (blocks are synced before
// use), so the file ends before it (torn). A bad frame with whole frames'
// worth of bytes after it is damage: its keys may have been used.
func parse(b []byte) (*parsed, error) {
	check, at, err := parseHeader(b)
	if err != nil {
		return nil, err
	}
	p := &parsed{check: bytes(check), keys: map[uint64][]byte{}, next: 1}
	for at < len(b) {
		body, size, ok := readFrame(b[at:])
		if !ok {
			if !tornAt(b[at:]) {
				return nil, fmt.Errorf("%w: bad frame at offset %d", ErrDamaged, at)
			}
			p.torn = true
			break
		}
		if err := p.block(body); err != nil {
			return nil, fmt.Errorf("%w: block at offset %d: %v", ErrDamaged, at, err)
		}
		at += size
	}
	p.end = int64(at)
	return p, nil
}

// tornAt reports whether b, starting with a frame that does not read, is
// the remains of an interrupted append: too short for a frame header, a
// length that is zero or runs to (or past) the end of the file.
func tornAt(b []byte) bool {
	if len(b) < frameHeader {
		return true
	}
	n := int64(binary.LittleEndian.Uint32(b))
	return n == 0 || frameHeader+n >= int64(len(b))
}

// block adds a block's keys.
func (p *parsed) block(body []byte) error {
	if body[0] != typeBlock {
		return fmt.Errorf("record type %d", body[0])
	}
	i := 1
	next, i := uvarint(body, i)
	count, i := uvarint(body, i)
	if i < 0 {
		return errors.New("truncated")
	}
	for range count {
		var n, size uint64
		n, i = uvarint(body, i)
		size, i = uvarint(body, i)
		if i < 0 || n == 0 || n >= next || size == 0 || size > maxWrapped || uint64(len(body)-i) < size {
			return errors.New("bad key entry")
		}
		if _, dup := p.keys[n]; dup {
			return fmt.Errorf("key %d twice", n)
		}
		p.keys[n] = bytes(body[i : i+int(size)])
		i += int(size)
	}
	if i != len(body) {
		return errors.New("trailing bytes")
	}
	p.next = max(p.next, next)
	return nil
}

// uvarint reads a uvarint at b[i:]; i < 0 in, or a bad varint, gives -1.
func uvarint(b []byte, i int) (uint64, int) {
	if i < 0 || i > len(b) {
		return 0, -1
	}
	v, n := binary.Uvarint(b[i:])
	if n <= 0 {
		return 0, -1
	}
	return v, i + n
}

func bytes(b []byte) []byte { return append([]byte(nil), b...) }
