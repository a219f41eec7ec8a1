package segment

import (
	"encoding/binary"
	"fmt"

	"github.com/batpak-go/batpak/event"
	"github.com/zeebo/blake3"
)

// Event body layout (after the frame header), little-endian; see docs/FORMAT.md:
//
//	type      u8   = TypeEvent
//	mask      u8   bit0 correlation present, bit1 causation present,
//	               bit2 hash present, bit3 idempotency key present,
//	               bits4-5 payload codec, bit6 payload version present,
//	               bit7 payload sealed (sealed.go)
//	hash      [32] only with bit2: the event's own chain hash
//	kind      u16
//	flags     u16
//	id        [16] UUIDv7, big-endian as in its text form
//	global    uvarint
//	sequence  uvarint  per-entity
//	timestamp u64      microseconds since the Unix epoch
//	walldelta varint   HLC wall ms minus timestamp/1000 (almost always 0)
//	counter   uvarint  HLC logical counter
//	corr      [16]     only with bit0; absent means "same as id"
//	cause     [16]     only with bit1
//	pversion  uvarint  only with bit6: the payload's version (1 or more)
//	idemkey   uvarint length + bytes, only with bit3
//	entity    uvarint length + bytes
//	scope     uvarint length + bytes
//	payload   the rest of the body
const (
	maskCorrelation = 1 << 0
	maskCausation   = 1 << 1
	maskHash        = 1 << 2
	maskIdemKey     = 1 << 3
	maskCodecShift  = 4
	maskVersion     = 1 << 6
	maskSealed      = 1 << 7
	maskKnown       = 0xFF

	hashOffset = 2
	// MaxIdempotencyKey bounds an idempotency key (the appends' bound,
	// event.MaxIdempotencyKey, is the format's).
	MaxIdempotencyKey = event.MaxIdempotencyKey
)

// EventRecord is an event as the writer encodes it.
type EventRecord struct {
	ID          event.ID
	Correlation event.ID // zero or equal to ID: not stored
	Causation   event.ID // zero: not stored
	Kind        event.EventKind
	Flags       uint16
	Global      uint64
	Sequence    uint64
	Timestamp   int64
	WallMS      uint64
	Counter     uint32
	Codec       event.Codec
	// PayloadVersion is the version of the payload's shape (package
	// kinds); 0, unversioned, is not stored.
	PayloadVersion uint32
	// Sealed says Payload is sealed (encrypted; see sealed.go): the codec
	// is that of the payload inside.
	Sealed  bool
	IdemKey string
	Entity  string
	Scope   string
	Payload []byte
}

// EncodedEventSize is an upper bound of the frame size of r, for sizing buffers.
func EncodedEventSize(r *EventRecord) int {
	return FrameHeaderSize + 2 + 32 + 4 + 16 + 10 + 10 + 8 + 10 + 5 + 32 + 5 +
		10 + len(r.IdemKey) + 10 + len(r.Entity) + 10 + len(r.Scope) + len(r.Payload)
}

// AppendEvent appends r's frame to dst. With chain set, it stores the
// event's own hash, Blake3 over the body with the hash slot holding prev (the
// entity's previous hash, zero for its first event), and returns it.
func AppendEvent(dst []byte, r *EventRecord, chain bool, prev [32]byte) ([]byte, [32]byte) {
	return appendEvent(dst, r, chain, prev, true)
}

// AppendTombstone appends the tombstone of the event v (a valid event
// body's view) to dst: the same record — id, coordinate, sequences,
// timestamps, flags, correlation, causation, idempotency key — with kind
// event.KindTombstone and no payload (raw codec). A hashed event keeps its
// own hash as it is: the hash covers the payload the tombstone no longer
// holds, so it cannot be recomputed, and the entity's next event hashes
// over it (docs/FORMAT.md, "Tombstones").
func AppendTombstone(dst []byte, v *EventView) []byte {
	r := EventRecord{
		ID: v.ID, Correlation: v.Correlation, Causation: v.Causation, Kind: event.KindTombstone, Flags: v.Flags,
		Global: v.Global, Sequence: v.Sequence, Timestamp: v.Timestamp, WallMS: v.WallMS, Counter: v.Counter,
		Codec: event.CodecRaw, IdemKey: string(v.IdemKey), Entity: string(v.Entity), Scope: string(v.Scope),
	}
	dst, _ = appendEvent(dst, &r, v.HasHash, v.Hash, false)
	return dst
}

// IsTombstone reports whether v is a tombstone as compaction writes it:
// kind event.KindTombstone, raw codec, no payload.
func IsTombstone(v *EventView) bool {
	return v.Kind == event.KindTombstone && v.Codec == event.CodecRaw && len(v.Payload) == 0
}

// AppendStripped appends the frame of the sealed event v (a valid event
// body's view) without its sealed payload: the same record, kind and codec
// included, still marked sealed, with an empty payload. Compaction writes
// it for an event whose key was shredded, whose ciphertext no key can open
// any more. Like a tombstone, a hashed event keeps its own hash as it is
// (docs/FORMAT.md, "Tombstones").
func AppendStripped(dst []byte, v *EventView) []byte {
	r := EventRecord{
		ID: v.ID, Correlation: v.Correlation, Causation: v.Causation, Kind: v.Kind, Flags: v.Flags,
		Global: v.Global, Sequence: v.Sequence, Timestamp: v.Timestamp, WallMS: v.WallMS, Counter: v.Counter,
		Codec: v.Codec, Sealed: true, IdemKey: string(v.IdemKey), Entity: string(v.Entity), Scope: string(v.Scope),
	}
	dst, _ = appendEvent(dst, &r, v.HasHash, v.Hash, false)
	return dst
}

// IsStripped reports whether v is a sealed event whose payload compaction
// dropped (AppendStripped): sealed, with an empty payload, which a sealed
// payload never is.
func IsStripped(v *EventView) bool { return v.Sealed && len(v.Payload) == 0 }

// appendEvent encodes r's frame. With chain, the hash slot holds slot and,
// if compute is set, is then overwritten with the hash of the body (slot
// being the predecessor's hash); otherwise slot stays as the stored hash.
func appendEvent(dst []byte, r *EventRecord, chain bool, slot [32]byte, compute bool) ([]byte, [32]byte) {
	prev := slot
	dst, start := beginFrame(dst)
	mask := byte(r.Codec&3) << maskCodecShift
	if !r.Correlation.IsZero() && r.Correlation != r.ID {
		mask |= maskCorrelation
	}
	if !r.Causation.IsZero() {
		mask |= maskCausation
	}
	if chain {
		mask |= maskHash
	}
	if r.IdemKey != "" {
		mask |= maskIdemKey
	}
	if r.PayloadVersion != 0 {
		mask |= maskVersion
	}
	if r.Sealed {
		mask |= maskSealed
	}
	dst = append(dst, TypeEvent, mask)
	if chain {
		dst = append(dst, prev[:]...)
	}
	dst = binary.LittleEndian.AppendUint16(dst, uint16(r.Kind))
	dst = binary.LittleEndian.AppendUint16(dst, r.Flags)
	dst = append(dst, r.ID[:]...)
	dst = binary.AppendUvarint(dst, r.Global)
	dst = binary.AppendUvarint(dst, r.Sequence)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(r.Timestamp))
	dst = binary.AppendVarint(dst, int64(r.WallMS)-r.Timestamp/1000)
	dst = binary.AppendUvarint(dst, uint64(r.Counter))
	if mask&maskCorrelation != 0 {
		dst = append(dst, r.Correlation[:]...)
	}
	if mask&maskCausation != 0 {
		dst = append(dst, r.Causation[:]...)
	}
	if mask&maskVersion != 0 {
		dst = binary.AppendUvarint(dst, uint64(r.PayloadVersion))
	}
	if mask&maskIdemKey != 0 {
		dst = binary.AppendUvarint(dst, uint64(len(r.IdemKey)))
		dst = append(dst, r.IdemKey...)
	}
	dst = binary.AppendUvarint(dst, uint64(len(r.Entity)))
	dst = append(dst, r.Entity...)
	dst = binary.AppendUvarint(dst, uint64(len(r.Scope)))
	dst = append(dst, r.Scope...)
	dst = append(dst, r.Payload...)
	var self [32]byte
	switch {
	case chain && compute:
		self = blake3.Sum256(dst[start:])
		copy(dst[start+hashOffset:], self[:])
	case chain:
		self = slot
	}
	return finishFrame(dst, start), self
}

// EventView is a decoded event body. Its byte-slice fields alias the body.
type EventView struct {
	HasHash     bool
	Hash        [32]byte
	Kind        event.EventKind
	Flags       uint16
	ID          event.ID
	Correlation event.ID
	Causation   event.ID
	Global      uint64
	Sequence    uint64
	Timestamp   int64
	WallMS      uint64
	Counter     uint32
	Codec       event.Codec
	// PayloadVersion is 0 for an event stored without one.
	PayloadVersion uint32
	Sealed         bool // Payload is sealed (sealed.go); Codec is that of the payload inside
	IdemKey        []byte
	Entity         []byte
	Scope          []byte
	Payload        []byte
}

// ParseEvent decodes an event body into v without copying, and checks
// that its entity and scope are valid coordinate parts (bytes from disk are
// not trusted).
func ParseEvent(body []byte, v *EventView) error {
	if err := ParseEventFields(body, v); err != nil {
		return err
	}
	// Coordinates were validated when written; check again so hostile bytes
	// that pass the CRC can never yield an invalid Coordinate.
	if err := event.ValidatePart("entity", string(v.Entity)); err != nil {
		return fmt.Errorf("%w: %v", ErrBadRecord, err)
	}
	if err := event.ValidatePart("scope", string(v.Scope)); err != nil {
		return fmt.Errorf("%w: %v", ErrBadRecord, err)
	}
	return nil
}

// ParseEventFields is ParseEvent without the coordinate check, for readers
// that take the coordinate from the index (whose names were validated when
// indexed) rather than from these bytes.
//
// Every read of an event goes through here, so it is written for speed:
// the fixed-size fields are read after one length check, and the varints,
// almost always one byte, take an inlined fast path.
func ParseEventFields(body []byte, v *EventView) error {
	if len(body) < 2 || body[0] != TypeEvent {
		return fmt.Errorf("%w: not an event record", ErrBadRecord)
	}
	mask := body[1]
	if mask&^maskKnown != 0 {
		return fmt.Errorf("%w: unknown event mask bits %#x", ErrBadRecord, mask)
	}
	i := 2
	v.HasHash = mask&maskHash != 0
	if v.HasHash {
		if len(body) < i+32 {
			return errTruncated
		}
		v.Hash = [32]byte(body[i : i+32])
		i += 32
	} else {
		v.Hash = [32]byte{}
	}
	// kind, flags and id, then at least one byte for each of the three
	// uvarints and the timestamp's eight before the clock fields.
	if len(body) < i+20+2+8 {
		return errTruncated
	}
	v.Kind = event.EventKind(binary.LittleEndian.Uint16(body[i:]))
	v.Flags = binary.LittleEndian.Uint16(body[i+2:])
	v.ID = event.ID(body[i+4 : i+20])
	i += 20
	if v.Global, i = uvarintAt(body, i); i < 0 {
		return errTruncated
	}
	if v.Sequence, i = uvarintAt(body, i); i < 0 {
		return errTruncated
	}
	if len(body) < i+8 {
		return errTruncated
	}
	v.Timestamp = int64(binary.LittleEndian.Uint64(body[i:]))
	i += 8
	var delta, counter uint64
	if delta, i = uvarintAt(body, i); i < 0 { // a zigzag varint
		return errTruncated
	}
	v.WallMS = uint64(v.Timestamp/1000 + (int64(delta>>1) ^ -int64(delta&1)))
	if counter, i = uvarintAt(body, i); i < 0 {
		return errTruncated
	}
	if counter > 1<<32-1 {
		return fmt.Errorf("%w: clock counter out of range", ErrBadRecord)
	}
	v.Counter = uint32(counter)
	v.Correlation, v.Causation = v.ID, event.ID{}
	if mask&maskCorrelation != 0 {
		if len(body) < i+16 {
			return errTruncated
		}
		v.Correlation = event.ID(body[i : i+16])
		i += 16
	}
	if mask&maskCausation != 0 {
		if len(body) < i+16 {
			return errTruncated
		}
		v.Causation = event.ID(body[i : i+16])
		i += 16
	}
	v.PayloadVersion = 0
	if mask&maskVersion != 0 {
		var pv uint64
		if pv, i = uvarintAt(body, i); i < 0 {
			return errTruncated
		}
		if pv == 0 || pv > 1<<32-1 {
			return fmt.Errorf("%w: payload version %d out of range", ErrBadRecord, pv)
		}
		v.PayloadVersion = uint32(pv)
	}
	v.IdemKey = nil
	if mask&maskIdemKey != 0 {
		if v.IdemKey, i = lenPrefixedAt(body, i, MaxIdempotencyKey); i < 0 {
			return errTruncated
		}
	}
	if v.Entity, i = lenPrefixedAt(body, i, event.MaxCoordinatePart); i < 0 {
		return errTruncated
	}
	if v.Scope, i = lenPrefixedAt(body, i, event.MaxCoordinatePart); i < 0 {
		return errTruncated
	}
	if len(v.Entity) == 0 || len(v.Scope) == 0 {
		return fmt.Errorf("%w: empty coordinate part", ErrBadRecord)
	}
	v.Codec = event.Codec(mask >> maskCodecShift & 3)
	v.Sealed = mask&maskSealed != 0
	v.Payload = body[i:]
	return nil
}

// errTruncated is a record that ends inside a field (or whose length
// prefix exceeds its bound).
var errTruncated = fmt.Errorf("%w: truncated event record", ErrBadRecord)

// uvarintAt decodes the uvarint at b[i:] (i <= len(b)) and returns it and
// the index after it, or -1 if b ends inside it or it overflows 64 bits.
func uvarintAt(b []byte, i int) (uint64, int) {
	v, n := binary.Uvarint(b[i:])
	if n <= 0 {
		return 0, -1
	}
	return v, i + n
}

// lenPrefixedAt reads a uvarint length at b[i:], at most max, and that
// many bytes; the index after them is -1 if they are not all there.
func lenPrefixedAt(b []byte, i, max int) ([]byte, int) {
	n, j := uvarintAt(b, i)
	if j < 0 || n > uint64(max) || uint64(len(b)-j) < n {
		return nil, -1
	}
	return b[j : j+int(n)], j + int(n)
}

// VerifyHash recomputes an event body's own hash given its predecessor's
// hash and reports whether it matches the stored one. body must be a valid
// event body with a hash.
func VerifyHash(body []byte, prev [32]byte) bool {
	if len(body) < hashOffset+32 || body[1]&maskHash == 0 {
		return false
	}
	var stored [32]byte
	copy(stored[:], body[hashOffset:])
	h := blake3.New()
	h.Write(body[:hashOffset])
	h.Write(prev[:])
	h.Write(body[hashOffset+32:])
	var got [32]byte
	h.Sum(got[:0])
	return got == stored
}

// ToStored fills e from v, copying every byte slice so e owns its memory.
// v must come from a successful ParseEvent. A sealed payload is not
// opened: e gets no payload and PayloadErr event.ErrSealed
// (event.ErrShredded for a stripped event); a caller holding the key opens
// it (see Opener).
func (v *EventView) ToStored(e *event.StoredEvent) {
	e.Header = event.Header{
		ID:          v.ID,
		Correlation: v.Correlation,
		Causation:   v.Causation,
		Timestamp:   v.Timestamp,
		Position:    event.Position{WallMS: v.WallMS, Counter: v.Counter},
		Sequence:    v.Sequence,
		Global:      v.Global,
		Kind:        v.Kind,
		Flags:       v.Flags,
		PayloadSize: uint32(len(v.Payload)),
		Hash:        event.HashChain{Self: v.Hash},
	}
	e.Coordinate, _ = event.NewCoordinate(string(v.Entity), string(v.Scope)) // validated by ParseEvent
	e.IdempotencyKey = string(v.IdemKey)
	e.Codec = v.Codec
	e.PayloadVersion = v.PayloadVersion
	e.Payload, e.PayloadErr = nil, nil
	switch {
	case IsStripped(v):
		e.PayloadErr, e.PayloadSize = event.ErrShredded, 0
	case v.Sealed:
		e.PayloadErr, e.PayloadSize = event.ErrSealed, 0
	default:
		e.Payload = append([]byte(nil), v.Payload...)
	}
}
