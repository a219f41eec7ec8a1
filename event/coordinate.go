package event

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxCoordinatePart is the largest entity or scope, in bytes.
const MaxCoordinatePart = 1024

// ErrInvalidCoordinate is matched (errors.Is) by every *CoordinateError.
var ErrInvalidCoordinate = errors.New("batpak: invalid coordinate")

// CoordinateError says which part of a coordinate broke which rule.
type CoordinateError struct {
	Field  string // "entity" or "scope"
	Reason string // "empty", "not valid UTF-8", "contains NUL", "longer than 1024 bytes"
}

func (e *CoordinateError) Error() string {
	return fmt.Sprintf("batpak: invalid coordinate: %s %s", e.Field, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidCoordinate) true for every CoordinateError.
func (e *CoordinateError) Is(target error) bool { return target == ErrInvalidCoordinate }

// Coordinate addresses an event: the entity it is about and the scope it
// happened in, such as player:alice in room:dungeon. The zero Coordinate is
// invalid; build one with NewCoordinate or MustCoordinate.
type Coordinate struct {
	entity string
	scope  string
}

// NewCoordinate validates entity and scope: each must be non-empty, valid
// UTF-8, free of NUL bytes and at most MaxCoordinatePart bytes.
func NewCoordinate(entity, scope string) (Coordinate, error) {
	if err := ValidatePart("entity", entity); err != nil {
		return Coordinate{}, err
	}
	if err := ValidatePart("scope", scope); err != nil {
		return Coordinate{}, err
	}
	return Coordinate{entity: entity, scope: scope}, nil
}

// MustCoordinate is NewCoordinate for constants; it panics on invalid input.
func MustCoordinate(entity, scope string) Coordinate {
	c, err := NewCoordinate(entity, scope)
	if err != nil {
		panic(err)
	}
	return c
}

// ValidatePart checks one coordinate part; field names it in the error.
func ValidatePart(field, s string) error {
	switch {
	case s == "":
		return &CoordinateError{Field: field, Reason: "empty"}
	case len(s) > MaxCoordinatePart:
		return &CoordinateError{Field: field, Reason: fmt.Sprintf("longer than %d bytes", MaxCoordinatePart)}
	case strings.IndexByte(s, 0) >= 0:
		return &CoordinateError{Field: field, Reason: "contains NUL"}
	case !utf8.ValidString(s):
		return &CoordinateError{Field: field, Reason: "not valid UTF-8"}
	}
	return nil
}

// Entity is what the event is about, e.g. "player:alice".
func (c Coordinate) Entity() string { return c.entity }

// Scope is where the event happened, e.g. "room:dungeon".
func (c Coordinate) Scope() string { return c.scope }

// IsZero reports whether c is the zero (invalid) Coordinate.
func (c Coordinate) IsZero() bool { return c.entity == "" && c.scope == "" }

// Valid reports whether c satisfies the rules of NewCoordinate.
func (c Coordinate) Valid() error {
	if err := ValidatePart("entity", c.entity); err != nil {
		return err
	}
	return ValidatePart("scope", c.scope)
}

// String renders the coordinate as entity@scope.
func (c Coordinate) String() string { return c.entity + "@" + c.scope }
