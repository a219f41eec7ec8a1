package typedid

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/batpak-go/batpak/event"
)

// Tag is implemented by the empty marker type that names an id type. Prefix
// is written before the UUID in the id's text form ("player:0190…"); keep it
// stable, since ids in the log and in URLs carry it. An empty prefix gives
// bare UUIDs.
//
//	type player struct{}
//
//	func (player) Prefix() string { return "player" }
//
//	type PlayerID = typedid.ID[player]
type Tag interface {
	Prefix() string
}

// ID is a UUIDv7 that can only stand for one type of thing: an ID[player]
// is not an ID[room], so passing one for the other is a compile error, and
// parsing a room's id as a player's fails. It is comparable, usable as a map
// key, ordered by creation time, and its zero value means "none".
type ID[T Tag] struct {
	raw event.ID
}

// ErrInvalid is returned (wrapped) by Parse, FromUUID and UnmarshalText.
var ErrInvalid = errors.New("typedid: invalid id")

func prefix[T Tag]() string {
	var t T
	return t.Prefix()
}

// New returns a fresh id, time-ordered after ids made earlier in the process.
func New[T Tag]() ID[T] { return ID[T]{raw: event.NewID()} }

// FromUUID types an existing UUIDv7, such as one minted by another system.
func FromUUID[T Tag](u event.ID) (ID[T], error) {
	if err := checkV7(u); err != nil {
		return ID[T]{}, err
	}
	return ID[T]{raw: u}, nil
}

// checkV7 accepts RFC 9562 version-7 UUIDs only: the version nibble is 7 and
// the variant bits are 10.
func checkV7(u event.ID) error {
	if v := u[6] >> 4; v != 7 {
		return fmt.Errorf("%w: UUID version %d, want 7", ErrInvalid, v)
	}
	if u[8]>>6 != 0b10 {
		return fmt.Errorf("%w: not an RFC 9562 variant UUID", ErrInvalid)
	}
	return nil
}

// Parse reads the text form "<prefix>:<uuid>" of an ID[T]; the prefix must
// be T's.
func Parse[T Tag](s string) (ID[T], error) {
	p := prefix[T]()
	rest := s
	if p != "" {
		var ok bool
		if rest, ok = strings.CutPrefix(s, p+":"); !ok {
			return ID[T]{}, fmt.Errorf("%w: %q does not start with %q", ErrInvalid, s, p+":")
		}
	}
	u, err := event.ParseID(rest)
	if err != nil {
		return ID[T]{}, fmt.Errorf("%w: %q: %w", ErrInvalid, s, err)
	}
	return FromUUID[T](u)
}

// MustParse is Parse for constants and tests; it panics on invalid input.
func MustParse[T Tag](s string) ID[T] {
	id, err := Parse[T](s)
	if err != nil {
		panic(err)
	}
	return id
}

// UUID is the underlying UUIDv7.
func (id ID[T]) UUID() event.ID { return id.raw }

// IsZero reports whether id is the zero ("none") id.
func (id ID[T]) IsZero() bool { return id.raw.IsZero() }

// Time is the creation time embedded in the UUIDv7, to the millisecond.
func (id ID[T]) Time() time.Time { return time.UnixMilli(id.raw.UnixMilli()) }

// Compare orders ids by creation time (then by their random bits).
func (id ID[T]) Compare(o ID[T]) int { return id.raw.Compare(o.raw) }

// String is the text form, "<prefix>:<uuid>" (the bare UUID for an empty
// prefix). It is a valid coordinate entity, so an id can address its own
// event stream directly; see Coordinate.
func (id ID[T]) String() string {
	if p := prefix[T](); p != "" {
		return p + ":" + id.raw.String()
	}
	return id.raw.String()
}

// Coordinate returns the coordinate of this id's entity in scope.
func (id ID[T]) Coordinate(scope string) (event.Coordinate, error) {
	return event.NewCoordinate(id.String(), scope)
}

// MarshalText implements encoding.TextMarshaler (used by JSON and
// MessagePack). The zero id marshals to empty text, so optional ids round-trip.
func (id ID[T]) MarshalText() ([]byte, error) {
	if id.IsZero() {
		return []byte{}, nil
	}
	return []byte(id.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; empty text is the zero id.
func (id *ID[T]) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*id = ID[T]{}
		return nil
	}
	v, err := Parse[T](string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}
