package batpakrust

import (
	"encoding/binary"
	"fmt"
	"math"
)

// mp reads MessagePack values from a byte slice. It is a deliberately
// small decoder: batpak-rust writes its records with rmp-serde's named
// (map) encoding, and reading them field by field lets every length be
// checked against the bytes that are actually there before anything is
// allocated, which a reflection-based decoder cannot promise for bytes
// from disk. Errors are sticky: after the first, every read returns zero
// values and Err reports it.
type mp struct {
	b   []byte
	off int
	err error
}

// maxDepth bounds the nesting Skip follows, so hostile bytes cannot
// exhaust the stack.
const maxDepth = 64

func (d *mp) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at byte %d", ErrMalformed, fmt.Sprintf(format, args...), d.off)
	}
}

// need reports whether n more bytes are there, failing otherwise.
func (d *mp) need(n uint64) bool {
	if d.err != nil {
		return false
	}
	if n > uint64(len(d.b)-d.off) {
		d.fail("value runs past the end (%d bytes wanted, %d left)", n, len(d.b)-d.off)
		return false
	}
	return true
}

func (d *mp) byte1() byte {
	if !d.need(1) {
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

func (d *mp) take(n uint64) []byte {
	if !d.need(n) {
		return nil
	}
	s := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}

func (d *mp) be(n int) uint64 {
	s := d.take(uint64(n))
	if s == nil {
		return 0
	}
	switch n {
	case 1:
		return uint64(s[0])
	case 2:
		return uint64(binary.BigEndian.Uint16(s))
	case 4:
		return uint64(binary.BigEndian.Uint32(s))
	}
	return binary.BigEndian.Uint64(s)
}

func (d *mp) peek() byte {
	if !d.need(1) {
		return 0
	}
	return d.b[d.off]
}

// isNil consumes a nil if one is next.
func (d *mp) isNil() bool {
	if d.err == nil && d.off < len(d.b) && d.b[d.off] == 0xc0 {
		d.off++
		return true
	}
	return false
}

// Uint reads a non-negative integer of any width (a signed encoding of a
// non-negative value included: rmp-serde writes i64 fields either way).
func (d *mp) Uint() uint64 {
	c := d.byte1()
	switch {
	case d.err != nil:
		return 0
	case c <= 0x7f:
		return uint64(c)
	case c == 0xcc:
		return d.be(1)
	case c == 0xcd:
		return d.be(2)
	case c == 0xce:
		return d.be(4)
	case c == 0xcf:
		return d.be(8)
	case c == 0xd0, c == 0xd1, c == 0xd2, c == 0xd3:
		v := d.signed(c)
		if v < 0 {
			d.fail("negative integer %d where an unsigned one belongs", v)
			return 0
		}
		return uint64(v)
	case c >= 0xe0:
		d.fail("negative integer where an unsigned one belongs")
		return 0
	}
	d.fail("type 0x%02x where an integer belongs", c)
	return 0
}

func (d *mp) signed(c byte) int64 {
	switch c {
	case 0xd0:
		return int64(int8(d.be(1)))
	case 0xd1:
		return int64(int16(d.be(2)))
	case 0xd2:
		return int64(int32(d.be(4)))
	}
	return int64(d.be(8))
}

// Int reads an integer of any width that fits an int64.
func (d *mp) Int() int64 {
	c := d.peek()
	switch {
	case d.err != nil:
		return 0
	case c >= 0xe0:
		d.off++
		return int64(int8(c))
	case c >= 0xd0 && c <= 0xd3:
		d.off++
		return d.signed(c)
	}
	v := d.Uint()
	if v > math.MaxInt64 {
		d.fail("integer %d exceeds int64", v)
		return 0
	}
	return int64(v)
}

// UintMax reads an unsigned integer no greater than limit.
func (d *mp) UintMax(limit uint64, what string) uint64 {
	v := d.Uint()
	if v > limit {
		d.fail("%s %d exceeds %d", what, v, limit)
		return 0
	}
	return v
}

// Str reads a string (str of any width).
func (d *mp) Str() string {
	c := d.byte1()
	var n uint64
	switch {
	case d.err != nil:
		return ""
	case c >= 0xa0 && c <= 0xbf:
		n = uint64(c & 0x1f)
	case c == 0xd9:
		n = d.be(1)
	case c == 0xda:
		n = d.be(2)
	case c == 0xdb:
		n = d.be(4)
	default:
		d.fail("type 0x%02x where a string belongs", c)
		return ""
	}
	return string(d.take(n))
}

// Bytes reads a byte string, written either as bin (serde_bytes) or, as
// rmp-serde writes a plain Vec<u8> or [u8; N], as an array of integers
// 0–255. The result is a copy.
func (d *mp) Bytes(limit int) []byte {
	c := d.peek()
	if d.err != nil {
		return nil
	}
	var n uint64
	switch c {
	case 0xc4, 0xc5, 0xc6:
		d.off++
		n = d.be(1 << (c - 0xc4))
		if n > uint64(limit) {
			d.fail("byte string of %d bytes exceeds %d", n, limit)
			return nil
		}
		return append([]byte(nil), d.take(n)...)
	}
	n = d.ArrayLen()
	if d.err != nil {
		return nil
	}
	if n > uint64(limit) {
		d.fail("byte array of %d elements exceeds %d", n, limit)
		return nil
	}
	// Each element takes at least one byte: a length past the bytes left
	// is refused before the allocation.
	if !d.need(n) {
		return nil
	}
	out := make([]byte, n)
	for i := range out {
		out[i] = byte(d.UintMax(0xff, "byte"))
	}
	if d.err != nil {
		return nil
	}
	return out
}

// Hash reads a 32-byte hash (bin or array form).
func (d *mp) Hash() (h [32]byte) {
	b := d.Bytes(32)
	if d.err == nil && len(b) != 32 {
		d.fail("hash of %d bytes, want 32", len(b))
	}
	copy(h[:], b)
	return h
}

// U128 reads a 128-bit id: rmp-serde writes batpak-rust's u128 ids as 16
// big-endian bytes.
func (d *mp) U128() (id [16]byte) {
	b := d.Bytes(16)
	if d.err == nil && len(b) != 16 {
		d.fail("128-bit id of %d bytes, want 16", len(b))
	}
	copy(id[:], b)
	return id
}

// ArrayLen reads an array header.
func (d *mp) ArrayLen() uint64 {
	c := d.byte1()
	switch {
	case d.err != nil:
		return 0
	case c >= 0x90 && c <= 0x9f:
		return uint64(c & 0x0f)
	case c == 0xdc:
		return d.be(2)
	case c == 0xdd:
		return d.be(4)
	}
	d.fail("type 0x%02x where an array belongs", c)
	return 0
}

// MapLen reads a map header.
func (d *mp) MapLen() uint64 {
	c := d.byte1()
	switch {
	case d.err != nil:
		return 0
	case c >= 0x80 && c <= 0x8f:
		return uint64(c & 0x0f)
	case c == 0xde:
		return d.be(2)
	case c == 0xdf:
		return d.be(4)
	}
	d.fail("type 0x%02x where a map belongs", c)
	return 0
}

// Fields calls fn with each key of the map that comes next; fn must read
// (or Skip) the key's value. Keys must be strings.
func (d *mp) Fields(fn func(key string)) {
	n := d.MapLen()
	for i := uint64(0); i < n && d.err == nil; i++ {
		k := d.Str()
		if d.err != nil {
			return
		}
		fn(k)
	}
}

// Raw returns the bytes of the next value, whatever it is.
func (d *mp) Raw() []byte {
	start := d.off
	d.Skip()
	if d.err != nil {
		return nil
	}
	return d.b[start:d.off]
}

// Skip steps over the next value.
func (d *mp) Skip() { d.skip(0) }

func (d *mp) skip(depth int) {
	if depth > maxDepth {
		d.fail("values nested deeper than %d", maxDepth)
		return
	}
	c := d.byte1()
	if d.err != nil {
		return
	}
	var n uint64 // bytes to skip, or elements for arrays and maps
	switch {
	case c <= 0x7f, c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3:
		return
	case c >= 0xa0 && c <= 0xbf:
		d.take(uint64(c & 0x1f))
		return
	case c >= 0x90 && c <= 0x9f:
		n = uint64(c & 0x0f)
		for i := uint64(0); i < n && d.err == nil; i++ {
			d.skip(depth + 1)
		}
		return
	case c >= 0x80 && c <= 0x8f:
		n = uint64(c&0x0f) * 2
		for i := uint64(0); i < n && d.err == nil; i++ {
			d.skip(depth + 1)
		}
		return
	}
	switch c {
	case 0xcc, 0xd0:
		d.take(1)
	case 0xcd, 0xd1:
		d.take(2)
	case 0xce, 0xd2, 0xca:
		d.take(4)
	case 0xcf, 0xd3, 0xcb:
		d.take(8)
	case 0xc4, 0xd9:
		d.take(d.be(1))
	case 0xc5, 0xda:
		d.take(d.be(2))
	case 0xc6, 0xdb:
		d.take(d.be(4))
	case 0xd4:
		d.take(2)
	case 0xd5:
		d.take(3)
	case 0xd6:
		d.take(5)
	case 0xd7:
		d.take(9)
	case 0xd8:
		d.take(17)
	case 0xc7:
		d.take(d.be(1) + 1)
	case 0xc8:
		d.take(d.be(2) + 1)
	case 0xc9:
		d.take(d.be(4) + 1)
	case 0xdc, 0xdd, 0xde, 0xdf:
		n = d.be(2 << ((c - 0xdc) & 1))
		if c >= 0xde {
			n *= 2
		}
		// Each element takes at least a byte: refuse a count past the end
		// before looping over it.
		if !d.need(n) {
			return
		}
		for i := uint64(0); i < n && d.err == nil; i++ {
			d.skip(depth + 1)
		}
	default:
		d.fail("unknown type 0x%02x", c)
	}
}
