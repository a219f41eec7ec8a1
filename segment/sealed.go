package segment

import (
	"encoding/binary"
	"fmt"

	"github.com/batpak-go/batpak/event"
)

// Sealed payloads (docs/FORMAT.md, "Sealed payloads"). An event record
// whose mask has bit 7 set holds its payload encrypted with
// XChaCha20-Poly1305 under a data key of the store's keyset (package
// keyring), as
//
//	key    uvarint  the data key's number in the keyset (≥ 1)
//	nonce  [24]     random
//	box    n + 16   the payload (encoded with the mask's codec), encrypted,
//	                then the Poly1305 tag
//
// The associated data (SealAAD) binds the box to the key and to the
// event's coordinate, kind, flags and codec, so it does not open in
// another entity's, scope's or kind's event. A stripped event (compaction
// dropped the box of a shredded key: AppendStripped) has an empty payload.
// The frame's CRC and the event's chain hash cover the sealed bytes, so
// Verify never needs a key.
const (
	SealNonceSize = 24
	SealTagSize   = 16
	// SealOverhead bounds what sealing adds to a payload: the key number
	// (at most 10 bytes), the nonce and the tag.
	SealOverhead = 10 + SealNonceSize + SealTagSize
)

// sealDomain starts the associated data: a sealed payload of this format
// opens as nothing else.
const sealDomain = "batpak sealed payload 1\x00"

// Sealed is a sealed payload's parts; Nonce and Box alias the payload.
type Sealed struct {
	Key   uint64
	Nonce []byte
	Box   []byte
}

// ParseSealed splits a sealed payload. A stripped (empty) payload is not a
// sealed payload: check IsStripped first.
func ParseSealed(p []byte) (Sealed, error) {
	key, n := binary.Uvarint(p)
	if n <= 0 || key == 0 || len(p)-n < SealNonceSize+SealTagSize {
		return Sealed{}, fmt.Errorf("%w: malformed sealed payload", ErrBadRecord)
	}
	return Sealed{Key: key, Nonce: p[n : n+SealNonceSize], Box: p[n+SealNonceSize:]}, nil
}

// AppendSealedHead appends a sealed payload's key number and nonce to dst;
// the box follows.
func AppendSealedHead(dst []byte, key uint64, nonce []byte) []byte {
	dst = binary.AppendUvarint(dst, key)
	return append(dst, nonce...)
}

// SealAAD appends to dst the associated data of a payload sealed with key
// for an event of kind, flags and codec at entity and scope:
//
//	"batpak sealed payload 1" 0x00, key u64, kind u16, flags u16, codec u8,
//	entity (uvarint length + bytes), scope (uvarint length + bytes)
//
// (integers little-endian).
func SealAAD[S ~string | ~[]byte](dst []byte, key uint64, kind event.EventKind, flags uint16, codec event.Codec, entity, scope S) []byte {
	dst = append(dst, sealDomain...)
	dst = binary.LittleEndian.AppendUint64(dst, key)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(kind))
	dst = binary.LittleEndian.AppendUint16(dst, flags)
	dst = append(dst, byte(codec))
	dst = binary.AppendUvarint(dst, uint64(len(entity)))
	dst = append(dst, entity...)
	dst = binary.AppendUvarint(dst, uint64(len(scope)))
	return append(dst, scope...)
}

// AAD is SealAAD for the sealed event v, whose payload holds key's box.
func (v *EventView) AAD(dst []byte, key uint64) []byte {
	return SealAAD(dst, key, v.Kind, v.Flags, v.Codec, v.Entity, v.Scope)
}

// Opener opens sealed payloads; the store's keyring is one.
type Opener interface {
	// Open returns the plaintext of v's sealed payload (v.Sealed, not
	// stripped). With inPlace it decrypts over the box, in v.Payload's own
	// bytes, which must be the caller's to change; otherwise into a new
	// slice. A shredded key is event.ErrShredded, a key the opener does
	// not hold event.ErrSealed; a payload that does not open (altered, or
	// moved from another event) is ErrBadRecord.
	Open(v *EventView, inPlace bool) ([]byte, error)
}
