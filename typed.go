package batpak

import (
	"context"
	"fmt"

	"github.com/batpak-go/batpak/kinds"
)

// DefineKind binds the Go type T to an event kind — its number
// (category:typ, as event.Custom takes them), its name and the version of
// T's shape — in the default registry (kinds.Default), for package-level
// variables; it panics if the definition is invalid or collides with one
// already made (two types on one kind, two kinds with one name). The
// kinds package has the error-returning form, its own registries, and the
// options: kinds.Version, kinds.Upcast, kinds.Unversioned.
//
//	var Moved = batpak.DefineKind[MovedV3]("player.moved", 0x1, 0x002,
//		kinds.Version(3), kinds.Upcast(1, movedV1toV2), kinds.Upcast(2, movedV2toV3))
func DefineKind[T any](name string, category uint8, typ uint16, opts ...kinds.Option) *kinds.Kind[T] {
	return kinds.MustDefine[T](kinds.Default, name, category, typ, opts...)
}

// AppendTyped appends v as an event of kind k: under k's kind, with k's
// payload version recorded, the store having learned k's name first. opts,
// at most one, are AppendWithOptions'. It works on either backend.
//
//	r, err := batpak.AppendTyped(ctx, store, Moved, alice, MovedV3{To: "crypt"})
func AppendTyped[T any](ctx context.Context, es EventStore, k *kinds.Kind[T], coord Coordinate, v T, opts ...AppendOptions) (Receipt, error) {
	var o AppendOptions
	switch len(opts) {
	case 0:
	case 1:
		o = opts[0]
	default:
		return Receipt{}, fmt.Errorf("%w: AppendTyped takes at most one AppendOptions, not %d", ErrInvalidOption, len(opts))
	}
	return es.AppendWithOptions(ctx, coord, k.Kind(), k.Payload(v), o)
}

// TypedItem is the batch item appending v as an event of kind k (see
// AppendTyped).
func TypedItem[T any](k *kinds.Kind[T], coord Coordinate, v T) BatchItem {
	return BatchItem{Coord: coord, Kind: k.Kind(), Payload: k.Payload(v)}
}

// DecodeAs decodes an event read by any path — Get, queries, cursors, a
// projection's Apply, a reactor — into T, the type the default registry
// binds to its kind, upcasting a payload of an older version (see
// kinds.Kind.Decode). An event of a kind the registry does not bind, or
// binds to another type, is an error (kinds.ErrUnregistered,
// kinds.ErrTypeMismatch); Decode reads a payload as it is.
//
//	func (s *Position) Apply(ev *event.StoredEvent) error {
//		m, err := batpak.DecodeAs[MovedV3](ev) // v1 and v2 events arrive as v3
//		…
//	}
func DecodeAs[T any](ev *StoredEvent) (T, error) { return kinds.Decode[T](kinds.Default, ev) }
