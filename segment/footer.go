package segment

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/batpak-go/batpak/event"
)

// TypeFooter is the record type of a sealed segment's index footer: the
// last record of the file, written when the writer seals the segment.
const TypeFooter byte = 5

// FooterVersion is the footer layout this package writes and reads.
const FooterVersion = 1

// footerMagic ends every footer, so a reader finds it from the file's end.
var footerMagic = [8]byte{'B', 'P', 'F', 'O', 'O', 'T', 'R', '1'}

// FooterTrailerSize is the size of the fixed trailer that ends a footer
// (and the file): the footer frame's offset (u32), then the magic.
const FooterTrailerSize = 4 + 8

// ErrNoFooter is returned by DecodeFooter for a segment that does not end
// in a footer (the segment is then scanned).
var ErrNoFooter = errors.New("segment: no footer")

// FooterEntry is what the index needs of one event, as a footer lists it.
// The event's id is not stored in the footer (it would add 16 bytes an
// event to the log); FrameEventID reads it from the frame.
type FooterEntry struct {
	Entity, Scope string
	IdemKey       string // "" if none
	Kind          event.EventKind
	Global        uint64
	Sequence      uint64
	Offset        uint32
	Size          uint32
}

// Entry flag bits: each marks a field present because it differs from
// the common case.
const (
	fGap    = 1 << 0 // bytes (batch markers, a compaction record) precede the frame
	fGlobal = 1 << 1 // the global sequence does not follow the previous one's by 1
	fKey    = 1 << 2 // an idempotency key follows
)

// FooterBuilder accumulates the footer of the segment being written, one
// event at a time, in offset order. The zero value is not ready: use
// NewFooterBuilder.
type FooterBuilder struct {
	entries []byte // encoded entries
	count   uint64
	end     int64  // end of the last event's frame
	global  uint64 // the last event's global sequence
	ents    map[string]uint32
	entList []string
	scopes  map[string]uint32
	scList  []string
	kinds   map[event.EventKind]uint32
	kdList  []event.EventKind
}

// NewFooterBuilder returns a builder for a segment whose frames start at HeaderSize.
func NewFooterBuilder() *FooterBuilder {
	return &FooterBuilder{
		end:    HeaderSize,
		ents:   make(map[string]uint32),
		scopes: make(map[string]uint32),
		kinds:  make(map[event.EventKind]uint32),
	}
}

// End is the end of the last event's frame added (HeaderSize if none).
func (b *FooterBuilder) End() int64 { return b.end }

// Len is the number of events added.
func (b *FooterBuilder) Len() int { return int(b.count) }

// Add appends an event; e.Offset must lie at or past the end of the
// previous one's frame.
func (b *FooterBuilder) Add(e *FooterEntry) {
	en, ok := b.ents[e.Entity]
	if !ok {
		en = uint32(len(b.entList))
		b.ents[e.Entity] = en
		b.entList = append(b.entList, e.Entity)
	}
	sn, ok := b.scopes[e.Scope]
	if !ok {
		sn = uint32(len(b.scList))
		b.scopes[e.Scope] = sn
		b.scList = append(b.scList, e.Scope)
	}
	kn, ok := b.kinds[e.Kind]
	if !ok {
		kn = uint32(len(b.kdList))
		b.kinds[e.Kind] = kn
		b.kdList = append(b.kdList, e.Kind)
	}
	gap := int64(e.Offset) - b.end
	var flags byte
	if gap != 0 {
		flags |= fGap
	}
	if e.Global != b.global+1 {
		flags |= fGlobal
	}
	if e.IdemKey != "" {
		flags |= fKey
	}
	d := append(b.entries, flags)
	d = binary.AppendUvarint(d, uint64(e.Size))
	d = binary.AppendUvarint(d, uint64(en))
	d = binary.AppendUvarint(d, uint64(sn))
	d = binary.AppendUvarint(d, uint64(kn))
	d = binary.AppendUvarint(d, e.Sequence)
	if flags&fGap != 0 {
		d = binary.AppendUvarint(d, uint64(gap))
	}
	if flags&fGlobal != 0 {
		d = binary.AppendUvarint(d, e.Global-b.global)
	}
	if flags&fKey != 0 {
		d = binary.AppendUvarint(d, uint64(len(e.IdemKey)))
		d = append(d, e.IdemKey...)
	}
	b.entries = d
	b.count++
	b.end = int64(e.Offset) + int64(e.Size)
	b.global = e.Global
}

// AppendFrame appends the footer frame, to be written at offset at (the
// end of the segment's records), to dst.
//
// Body: type, version, count, the entity names, the scope names, the
// kinds, the offset the records end at, the entries, then the trailer:
// the frame's own offset (u32) and the magic. Names are uvarint length +
// bytes; kinds u16. Each entry: flags, size, entity, scope and kind
// numbers, sequence (uvarints), then as flagged: the gap from the previous
// frame's end, the global sequence's step from the previous one's (from
// 0), the idempotency key.
func (b *FooterBuilder) AppendFrame(dst []byte, at int64) []byte {
	dst, start := beginFrame(dst)
	dst = append(dst, TypeFooter, FooterVersion)
	dst = binary.AppendUvarint(dst, b.count)
	for _, names := range [][]string{b.entList, b.scList} {
		dst = binary.AppendUvarint(dst, uint64(len(names)))
		for _, n := range names {
			dst = binary.AppendUvarint(dst, uint64(len(n)))
			dst = append(dst, n...)
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(b.kdList)))
	for _, k := range b.kdList {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(k))
	}
	dst = binary.AppendUvarint(dst, uint64(at))
	dst = append(dst, b.entries...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(at))
	dst = append(dst, footerMagic[:]...)
	return finishFrame(dst, start)
}

// Footer is a decoded footer.
type Footer struct {
	At      int64 // offset of the footer frame: the records end here
	Entries []FooterEntry
}

// DecodeFooter finds and decodes the footer at the end of a segment's
// bytes (see WalkFooter for what it checks). ErrNoFooter means the segment
// has none.
func DecodeFooter(data []byte) (*Footer, error) {
	f := &Footer{}
	at, err := WalkFooter(data, func(e *FooterEntry) error {
		f.Entries = append(f.Entries, *e)
		return nil
	})
	f.At = at
	if err != nil {
		return f, err
	}
	return f, nil
}

// WalkFooter finds the footer at the end of a segment's bytes and calls
// visit for each entry in order, without building a list (recovery hands
// the entries straight to the index). It checks the trailer, that the
// footer frame runs exactly to the end, its CRC — all before the first
// visit — then, as it goes, every count against the bytes present before
// allocating, and that the entries tile the records in increasing offset
// and global order up to the footer. at is the footer's offset (the end of
// the records) once the trailer is found. ErrNoFooter means the segment
// has none; any other error means a damaged or inconsistent footer (which
// may come after some visits). Errors from visit are returned as they are.
func WalkFooter(data []byte, visit func(*FooterEntry) error) (at int64, err error) {
	n := int64(len(data))
	if n < HeaderSize+FrameHeaderSize+FooterTrailerSize {
		return 0, ErrNoFooter
	}
	tr := data[n-FooterTrailerSize:]
	if [8]byte(tr[4:]) != footerMagic {
		return 0, ErrNoFooter
	}
	at = int64(binary.LittleEndian.Uint32(tr))
	if at < HeaderSize || at >= n {
		return n, fmt.Errorf("%w: footer offset %d outside the segment", ErrBadRecord, at)
	}
	body, size, err := ReadFrame(data[at:])
	if err != nil {
		return at, fmt.Errorf("footer: %w", err)
	}
	if at+int64(size) != n || body[0] != TypeFooter {
		return at, fmt.Errorf("%w: the footer frame does not end the segment", ErrBadRecord)
	}
	return at, walkFooterBody(body, at, visit)
}

func walkFooterBody(body []byte, at int64, visit func(*FooterEntry) error) error {
	bad := func(what string) error {
		return fmt.Errorf("%w: footer: %s", ErrBadRecord, what)
	}
	if len(body) < 2+FooterTrailerSize || body[1] != FooterVersion {
		return bad("unknown version")
	}
	r := reader{b: body[:len(body)-FooterTrailerSize], i: 2}
	count := r.uvarint()
	// Every entry takes at least 6 bytes: count is bounded by the body.
	if r.err != nil || count > uint64(len(body))/6 {
		return bad("entry count exceeds the footer")
	}
	var names [2][]string
	for j := range names {
		k := r.uvarint()
		if r.err != nil || k > uint64(len(body)) {
			return bad("name count exceeds the footer")
		}
		names[j] = make([]string, 0, k)
		for range k {
			s := string(r.lenPrefixed(MaxBody))
			if r.err != nil || event.ValidatePart("name", s) != nil {
				return bad("a name is unreadable or invalid")
			}
			names[j] = append(names[j], s)
		}
	}
	nk := r.uvarint()
	if r.err != nil || nk > uint64(len(body))/2 {
		return bad("kind count exceeds the footer")
	}
	kinds := make([]event.EventKind, nk)
	for i := range kinds {
		kinds[i] = event.EventKind(r.u16())
	}
	if end := r.uvarint(); r.err != nil || int64(end) != at {
		return bad("the footer does not say it starts where it does")
	}
	prevEnd, global := int64(HeaderSize), uint64(0)
	var e FooterEntry
	for range count {
		flags := r.u8()
		size, en, sn, kn, seq := r.uvarint(), r.uvarint(), r.uvarint(), r.uvarint(), r.uvarint()
		gap, step := uint64(0), uint64(1)
		if flags&fGap != 0 {
			gap = r.uvarint()
		}
		if flags&fGlobal != 0 {
			step = r.uvarint()
		}
		var key string
		if flags&fKey != 0 {
			key = string(r.lenPrefixed(MaxIdempotencyKey))
		}
		switch {
		case r.err != nil || flags&^(fGap|fGlobal|fKey) != 0:
			return bad("an entry is unreadable")
		case en >= uint64(len(names[0])) || sn >= uint64(len(names[1])) || kn >= nk:
			return bad("an entry names no known entity, scope or kind")
		case step == 0 || size < FrameHeaderSize+2 || gap > uint64(at) || size > uint64(at):
			return bad("an entry is out of order or out of range")
		}
		off := prevEnd + int64(gap)
		if off+int64(size) > at {
			return bad("entries run past the footer")
		}
		global += step
		e = FooterEntry{
			Entity: names[0][en], Scope: names[1][sn], IdemKey: key, Kind: kinds[kn],
			Global: global, Sequence: seq, Offset: uint32(off), Size: uint32(size),
		}
		if err := visit(&e); err != nil {
			return err
		}
		prevEnd = off + int64(size)
	}
	if r.err != nil || r.i != len(r.b) {
		return bad("trailing bytes")
	}
	// After the last event only a batch COMMIT (or, in a segment holding
	// no event, a compaction record) may precede the footer.
	if tail := at - prevEnd; tail < 0 || tail > maxFooterTail {
		return bad("the entries do not reach the footer")
	}
	return nil
}

// FrameEventIDs returns the id and the correlation id of the event whose
// frame starts frame (the correlation is the id itself unless the frame
// stores another, which is then read by decoding the body); the caller
// checks the frame's CRC.
func FrameEventIDs(frame []byte) (id, correlation event.ID, ok bool) {
	if id, ok = FrameEventID(frame); !ok {
		return id, id, false
	}
	if frame[FrameHeaderSize+1]&maskCorrelation == 0 {
		return id, id, true
	}
	var v EventView
	if ParseEventFields(frame[FrameHeaderSize:], &v) != nil {
		return id, id, false
	}
	return id, v.Correlation, true
}

// FrameEventID returns the id of the event whose frame starts frame,
// reading only the bytes that hold it; the caller checks the frame's CRC.
func FrameEventID(frame []byte) (event.ID, bool) {
	if len(frame) < FrameHeaderSize+2 || frame[FrameHeaderSize] != TypeEvent {
		return event.ID{}, false
	}
	i := FrameHeaderSize + 2 + 4 // type, mask, kind, flags
	if frame[FrameHeaderSize+1]&maskHash != 0 {
		i += 32
	}
	if len(frame) < i+16 {
		return event.ID{}, false
	}
	return event.ID(frame[i : i+16]), true
}

// maxFooterTail bounds the bytes between the last event and the footer.
const maxFooterTail = 64

func (r *reader) u8() byte {
	s := r.bytes(1)
	if s == nil {
		return 0
	}
	return s[0]
}
