package segment

import (
	"encoding/binary"
	"fmt"
)

// CompactedRecord is the first record of a segment written by compaction.
// Compaction replaces a run of sealed segments From … Through with one file
// named after From; the record says so, which lets recovery tell a gap in
// the segment ids left by compaction from a missing file, finish an
// interrupted compaction (files From+1 … Through still present are
// leftovers to remove), and lets Verify tell an event dropped by retention
// from a broken chain.
//
// Body layout: type (TypeCompacted), then uvarints Through, FirstGlobal,
// LastGlobal, Dropped. FirstGlobal and LastGlobal bound the global
// sequences the replaced segments held (0, 0 if none); kept events lie in
// that range, and numbering continues above LastGlobal even when the
// events at the end of the range were dropped.
type CompactedRecord struct {
	Through     uint64 // the last segment id this file replaces (≥ its own id)
	FirstGlobal uint64
	LastGlobal  uint64
	Dropped     uint64 // events dropped by retention, over every compaction of the range
}

// AppendCompacted appends a TypeCompacted frame.
func AppendCompacted(dst []byte, c CompactedRecord) []byte {
	dst, start := beginFrame(dst)
	dst = append(dst, TypeCompacted)
	for _, v := range []uint64{c.Through, c.FirstGlobal, c.LastGlobal, c.Dropped} {
		dst = binary.AppendUvarint(dst, v)
	}
	return finishFrame(dst, start)
}

// ParseCompacted decodes a TypeCompacted body.
func ParseCompacted(body []byte) (CompactedRecord, error) {
	if len(body) < 1 || body[0] != TypeCompacted {
		return CompactedRecord{}, fmt.Errorf("%w: not a compaction record", ErrBadRecord)
	}
	r := reader{b: body, i: 1}
	c := CompactedRecord{Through: r.uvarint(), FirstGlobal: r.uvarint(), LastGlobal: r.uvarint(), Dropped: r.uvarint()}
	if r.err != nil || r.i != len(body) || c.FirstGlobal > c.LastGlobal || (c.FirstGlobal == 0) != (c.LastGlobal == 0) {
		return CompactedRecord{}, fmt.Errorf("%w: malformed compaction record", ErrBadRecord)
	}
	return c, nil
}

// ReadCompacted returns the compaction record of a segment given its first
// bytes (the header and at least the first frame; 128 bytes suffice), or
// ok false if the segment was not written by compaction or the bytes do
// not hold a whole valid record. id is the segment's own id, which the
// record's Through may not precede.
func ReadCompacted(head []byte, id uint64) (c CompactedRecord, ok bool) {
	if len(head) <= HeaderSize {
		return c, false
	}
	body, _, err := ReadFrame(head[HeaderSize:])
	if err != nil || body[0] != TypeCompacted {
		return c, false
	}
	c, err = ParseCompacted(body)
	return c, err == nil && c.Through >= id
}

// CompactedHeadSize is how many leading bytes of a segment ReadCompacted
// needs at most.
const CompactedHeadSize = HeaderSize + FrameHeaderSize + 1 + 4*binary.MaxVarintLen64

// CompactTempSuffix ends the name of a compaction output that has not yet
// been renamed into place. Such a file is never part of the log: recovery
// removes it (the segments it was to replace are all still present).
const CompactTempSuffix = ".compact"

// CompactTempName is the temporary name of the compaction output that will
// become segment id.
func CompactTempName(id uint64) string { return fmt.Sprintf("%016x%s", id, CompactTempSuffix) }
