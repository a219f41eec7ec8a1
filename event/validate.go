package event

import (
	"errors"
	"fmt"
)

// The rules below are the ones every store applies to an append made
// through its public API, whatever its state: the embedded store, the
// JetStream backend and package gatekeeper (which refuses to issue a
// receipt for a proposal a store would refuse) all call these functions, so
// they cannot drift apart.

// MaxIdempotencyKey bounds an idempotency key, in bytes.
const MaxIdempotencyKey = 1024

// DefaultMaxPayload is the embedded store's default bound on an encoded
// payload (its WithMaxPayload option; the JetStream backend's default is
// lower, see its Options.MaxPayload).
const DefaultMaxPayload = 8 << 20

var (
	// ErrPayloadTooLarge is returned for an encoded payload above a store's
	// payload bound (Limits.MaxPayload).
	ErrPayloadTooLarge = errors.New("batpak: payload too large")
	// ErrInvalidOption is returned for an option out of range, such as an
	// idempotency key longer than MaxIdempotencyKey.
	ErrInvalidOption = errors.New("batpak: invalid option")
)

// CheckKind reports whether k may be appended through a store's public
// API. Every kind of the reserved categories is refused with
// ErrReservedKind: 0x0 (system, which includes kind 0) and 0xD (effect),
// the defined library kinds (KindHeartbeat, KindConflict, …) included.
// Those kinds are the library's own to write.
func CheckKind(k EventKind) error {
	switch {
	case k == 0:
		return fmt.Errorf("%w: kind 0 is not a user kind (category 0x0 is reserved)", ErrReservedKind)
	case k.IsSystem() || k.IsEffect():
		return fmt.Errorf("%w: %v is in a reserved category (0x0 system and 0xD effect are the library's)", ErrReservedKind, k)
	}
	return nil
}

// CheckAppend checks what every store refuses in an append before looking
// at its payload or at the log: an invalid coordinate (a
// *CoordinateError), a kind of a reserved category (ErrReservedKind) and an
// idempotency key longer than MaxIdempotencyKey (ErrInvalidOption).
func CheckAppend(coord Coordinate, kind EventKind, opts AppendOptions) error {
	if err := coord.Valid(); err != nil {
		return err
	}
	if err := CheckKind(kind); err != nil {
		return err
	}
	if len(opts.IdempotencyKey) > MaxIdempotencyKey {
		return fmt.Errorf("%w: idempotency key of %d bytes exceeds %d", ErrInvalidOption, len(opts.IdempotencyKey), MaxIdempotencyKey)
	}
	return nil
}

// Limits are the parts of a store's configuration that decide whether an
// append's payload is accepted: the codec that encodes non-[]byte payloads
// and the bound on an encoded payload. Code that must know before it
// reaches the store whether a payload fits (package gatekeeper) encodes
// with Codec and checks the size with CheckPayload. Both stores report
// theirs with a Limits method.
type Limits struct {
	Codec      Codec
	MaxPayload int
}

// DefaultLimits are the embedded store's defaults: MessagePack and
// DefaultMaxPayload.
func DefaultLimits() Limits { return Limits{Codec: CodecMsgPack, MaxPayload: DefaultMaxPayload} }

// IsZero reports whether l is the zero Limits (nothing configured).
func (l Limits) IsZero() bool { return l == Limits{} }

// CheckPayload refuses an encoded payload of n bytes above MaxPayload with
// ErrPayloadTooLarge.
func (l Limits) CheckPayload(n int) error {
	if n > l.MaxPayload {
		return fmt.Errorf("%w: %d bytes exceeds %d", ErrPayloadTooLarge, n, l.MaxPayload)
	}
	return nil
}

// Encode encodes a payload as a store with these limits would (see the
// package function Encode) and checks its size.
func (l Limits) Encode(v any) (Encoded, error) {
	e, err := EncodeVersioned(l.Codec, v)
	if err != nil {
		return Encoded{}, fmt.Errorf("batpak: encoding payload: %w", err)
	}
	if err := l.CheckPayload(len(e.Bytes)); err != nil {
		return Encoded{}, err
	}
	return e, nil
}

// Encoded is a payload already encoded with Codec. Encode passes it through
// as it is (a store appends Bytes and records Codec), so code that had to
// encode a payload before appending it — to measure it, say — does not
// encode it twice. Version, if not 0, is recorded as the payload's
// version (see Typed).
type Encoded struct {
	Codec   Codec
	Bytes   []byte
	Version uint32
}
