package segment

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// HeaderSize is the size of the segment header at the start of every
// segment file: 32 fixed bytes, then the 16-byte sync note.
const HeaderSize = 48

// fixedSize is the part of the header written once and covered by its CRC.
const fixedSize = 32

// SyncNoteOffset is where the sync note lies: how far the segment is known
// to have been fsynced. The fsync actor rewrites it after each fsync with
// the end that fsync covered; it becomes durable with the next one, so on
// disk it lags at most one fsync behind. Recovery treats damage in the last
// segment at or past the note as a torn tail — bytes there were never
// known to be synced, and a power loss may keep a later page and lose an
// earlier one — and damage before it as corruption.
const SyncNoteOffset = 32

// Version is the segment format version this package writes and reads.
const Version = 1

var magic = [8]byte{'B', 'A', 'T', 'P', 'A', 'K', 'S', 'G'}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Header is the fixed header of a segment file.
type Header struct {
	ID      uint64 // segment id, increasing with every new segment
	Created int64  // creation time, nanoseconds since the Unix epoch
}

// EncodeHeader returns the header bytes: magic(8) version(u16) flags(u16)
// crc32c(u32) id(u64) created(i64), little-endian, the CRC taken over these
// 32 bytes with its field zeroed; then the sync note (16 bytes).
// The sync note starts at HeaderSize (nothing synced yet).
func EncodeHeader(h Header) [HeaderSize]byte {
	var b [HeaderSize]byte
	copy(b[0:8], magic[:])
	binary.LittleEndian.PutUint16(b[8:], Version)
	binary.LittleEndian.PutUint64(b[16:], h.ID)
	binary.LittleEndian.PutUint64(b[24:], uint64(h.Created))
	binary.LittleEndian.PutUint32(b[12:], crc32.Checksum(b[:fixedSize], castagnoli))
	note := EncodeSyncNote(HeaderSize)
	copy(b[SyncNoteOffset:], note[:])
	return b
}

// EncodeSyncNote returns the 16 bytes of a sync note: the synced end
// (u64), its CRC-32C (u32), four zero bytes.
func EncodeSyncNote(end int64) [16]byte {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], uint64(end))
	binary.LittleEndian.PutUint32(b[8:], crc32.Checksum(b[:8], castagnoli))
	return b
}

// DecodeSyncNote reads the sync note of a segment's bytes; ok is false if
// it is missing or damaged (then nothing is known to be synced past the
// header, and recovery falls back to treating damage followed by valid
// frames as corruption).
func DecodeSyncNote(b []byte) (end int64, ok bool) {
	if len(b) < HeaderSize {
		return 0, false
	}
	n := b[SyncNoteOffset:HeaderSize]
	if crc32.Checksum(n[:8], castagnoli) != binary.LittleEndian.Uint32(n[8:]) {
		return 0, false
	}
	return int64(binary.LittleEndian.Uint64(n)), true
}

// DecodeHeader validates and decodes a segment header.
func DecodeHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, fmt.Errorf("%w: segment header has %d of %d bytes", ErrTorn, len(b), HeaderSize)
	}
	if [8]byte(b[0:8]) != magic {
		return Header{}, fmt.Errorf("%w: bad segment magic", ErrBadRecord)
	}
	var c [fixedSize]byte
	copy(c[:], b[:fixedSize])
	want := binary.LittleEndian.Uint32(c[12:])
	clear(c[12:16])
	if crc32.Checksum(c[:], castagnoli) != want {
		return Header{}, fmt.Errorf("%w: segment header checksum mismatch", ErrBadRecord)
	}
	if v := binary.LittleEndian.Uint16(b[8:]); v != Version {
		return Header{}, fmt.Errorf("%w: segment format version %d, this build reads %d", ErrBadRecord, v, Version)
	}
	return Header{
		ID:      binary.LittleEndian.Uint64(b[16:]),
		Created: int64(binary.LittleEndian.Uint64(b[24:])),
	}, nil
}

const fileSuffix = ".seg"

// MaxID is the largest segment file id the writer creates. Index entries
// hold segment ids in 32 bits, and the readers give ids above MaxID to
// segments written by compaction while the store is open.
const MaxID = 1<<31 - 1

// FileName is the name of segment id's file: 16 hex digits and ".seg", so
// names sort in segment order.
func FileName(id uint64) string { return fmt.Sprintf("%016x%s", id, fileSuffix) }

// ParseFileName returns the segment id of a segment file name.
func ParseFileName(name string) (uint64, bool) {
	hex, ok := strings.CutSuffix(name, fileSuffix)
	if !ok || len(hex) != 16 {
		return 0, false
	}
	id, err := strconv.ParseUint(hex, 16, 64)
	return id, err == nil
}
