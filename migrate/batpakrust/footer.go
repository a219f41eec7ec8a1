package batpakrust

import (
	"encoding/binary"
	"fmt"

	"github.com/batpak-go/batpak/event"
)

// The SIDX footer batpak-rust 0.3.0 appends to a segment when it seals it
// (on rotation and on a clean close, so an empty last segment has one too):
//
//	[string table]   MessagePack array of the entity and scope names
//	[entries]        count × 154 bytes, little-endian, no framing, no CRC
//	[u64 LE]         offset of the string table (where the frames end)
//	[u32 LE]         count
//	"SIDX"           the file's last four bytes
//
// Batch markers have no entry.
const (
	FooterMagic       = "SIDX"
	footerTrailerSize = 16
	// FooterEntrySize is one entry: id 16, entity 4, scope 4, kind 2,
	// wall ms 8, clock 4, prev hash 32, event hash 32, frame offset 8,
	// frame length 4, global sequence 8, correlation 16, causation 16.
	FooterEntrySize = 154
)

// FooterEntry is one event's entry in a SIDX footer. Ids are stored as
// little-endian u128 and returned here in the big-endian form of event.ID.
type FooterEntry struct {
	ID          event.ID
	Entity      string
	Scope       string
	Kind        event.EventKind
	WallMS      uint64
	Clock       uint32 // the per-entity sequence
	PrevHash    [32]byte
	EventHash   [32]byte
	FrameOffset uint64
	FrameLength uint32
	Global      uint64
	Correlation event.ID
	Causation   event.ID // zero: none
}

// Footer is a decoded SIDX footer.
type Footer struct {
	// FramesEnd is where the frames end: the string table's offset.
	FramesEnd int64
	Entries   []FooterEntry
}

// DecodeFooter decodes the SIDX footer at the end of a whole segment file
// whose frames start at framesStart. ok is false when the file does not
// end in the footer's magic (the segment was not sealed); an error means
// it does but the footer is damaged.
func DecodeFooter(seg []byte, framesStart int) (f Footer, ok bool, err error) {
	if len(seg) < footerTrailerSize || string(seg[len(seg)-4:]) != FooterMagic {
		return f, false, nil
	}
	tr := seg[len(seg)-footerTrailerSize:]
	tableAt := binary.LittleEndian.Uint64(tr)
	count := uint64(binary.LittleEndian.Uint32(tr[8:]))
	end := uint64(len(seg) - footerTrailerSize)
	if tableAt < uint64(framesStart) || tableAt > end {
		return f, true, fmt.Errorf("%w: SIDX string table at %d, outside %d…%d", ErrMalformed, tableAt, framesStart, end)
	}
	d := &mp{b: seg[tableAt:end]}
	n := d.ArrayLen()
	if d.err == nil && !d.need(n) { // each name takes at least a byte
		d.fail("string table of %d names", n)
	}
	names := make([]string, 0, min(n, 1<<16))
	for i := uint64(0); i < n && d.err == nil; i++ {
		names = append(names, d.Str())
	}
	if d.err != nil {
		return f, true, fmt.Errorf("SIDX string table: %w", d.err)
	}
	entriesAt := tableAt + uint64(d.off)
	if end-entriesAt != count*FooterEntrySize {
		return f, true, fmt.Errorf("%w: SIDX of %d entries needs %d bytes, %d present", ErrMalformed, count, count*FooterEntrySize, end-entriesAt)
	}
	name := func(i uint32) (string, error) {
		if uint64(i) >= uint64(len(names)) {
			return "", fmt.Errorf("%w: SIDX names string %d of %d", ErrMalformed, i, len(names))
		}
		return names[i], nil
	}
	f.FramesEnd = int64(tableAt)
	f.Entries = make([]FooterEntry, count)
	for i := range f.Entries {
		b := seg[entriesAt+uint64(i)*FooterEntrySize:][:FooterEntrySize]
		e := &f.Entries[i]
		e.ID = u128LE(b[0:16])
		if e.Entity, err = name(binary.LittleEndian.Uint32(b[16:])); err != nil {
			return f, true, err
		}
		if e.Scope, err = name(binary.LittleEndian.Uint32(b[20:])); err != nil {
			return f, true, err
		}
		e.Kind = event.EventKind(binary.LittleEndian.Uint16(b[24:]))
		e.WallMS = binary.LittleEndian.Uint64(b[26:])
		e.Clock = binary.LittleEndian.Uint32(b[34:])
		copy(e.PrevHash[:], b[38:70])
		copy(e.EventHash[:], b[70:102])
		e.FrameOffset = binary.LittleEndian.Uint64(b[102:])
		e.FrameLength = binary.LittleEndian.Uint32(b[110:])
		e.Global = binary.LittleEndian.Uint64(b[114:])
		e.Correlation = u128LE(b[122:138])
		e.Causation = u128LE(b[138:154])
	}
	return f, true, nil
}

// u128LE turns a little-endian u128 into an event.ID (big-endian bytes).
func u128LE(b []byte) (id event.ID) {
	for i := range id {
		id[i] = b[15-i]
	}
	return id
}
