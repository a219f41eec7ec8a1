package kinds

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/batpak-go/batpak/event"
)

// Kind binds the Go type T to one event kind: its number, its name and the
// version of T's shape. Its payloads (Payload) are appended with that
// version recorded, and its reads (Decode, Query, Get, Events, Cursor)
// turn every stored version into a T, upcasting older ones. A Kind is
// made by Define and never changes; it is safe for concurrent use.
type Kind[T any] struct {
	kind        event.EventKind
	name        string
	version     uint32
	unversioned uint32 // what a stored version 0 is read as
	// steps[i] upcasts version lowest+i to lowest+i+1; the last one
	// ends at version, in T.
	steps  []step
	lowest uint32 // the oldest version readable: version if no steps
	typ    reflect.Type
}

// step is one upcaster, version from to from+1. in and out are the Go
// types it takes and gives, checked against its neighbours' by Define;
// decode reads a payload of version from into an in; apply runs the
// caller's function.
type step struct {
	from    uint32
	in, out reflect.Type
	decode  func(*event.StoredEvent) (any, error)
	apply   func(any) (any, error)
}

// Upcast registers the step that turns a payload of version from, decoded
// as a From, into version from+1, a To. The steps of a kind must chain
// without a gap up to its Version, the last one giving the kind's type;
// Define checks both. From may be a struct kept for the old shape or a
// map[string]any. An error fn returns fails the read (ErrUpcast).
func Upcast[From, To any](from uint32, fn func(From) (To, error)) Option {
	return func(d *definition) {
		d.steps = append(d.steps, step{
			from: from, in: reflect.TypeFor[From](), out: reflect.TypeFor[To](),
			decode: func(ev *event.StoredEvent) (any, error) {
				var f From
				err := ev.Decode(&f)
				return f, err
			},
			apply: func(x any) (any, error) { return fn(x.(From)) },
		})
	}
}

// newKind checks a definition and builds its Kind.
func newKind[T any](name string, category uint8, typ uint16, opts []Option) (*Kind[T], error) {
	if err := CheckName(name); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDefinition, err)
	}
	kind, err := event.Custom(category, typ)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrDefinition, name, err)
	}
	d := definition{version: 1, unversioned: 1}
	for _, o := range opts {
		o(&d)
	}
	if d.err != nil {
		return nil, fmt.Errorf("%q: %w", name, d.err)
	}
	k := &Kind[T]{kind: kind, name: name, version: d.version, unversioned: d.unversioned, lowest: d.version,
		typ: reflect.TypeFor[T]()}
	if d.unversioned < 1 || d.unversioned > d.version {
		return nil, fmt.Errorf("%w: %q: unversioned events read as version %d, outside 1…%d", ErrDefinition, name, d.unversioned, d.version)
	}
	if err := k.chain(d.steps); err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrDefinition, name, err)
	}
	return k, nil
}

// chain orders the steps and checks that they lead, without a gap, from
// the oldest to the current version, each taking the type the previous
// one gives and the last giving T.
func (k *Kind[T]) chain(steps []step) error {
	if len(steps) == 0 {
		return nil
	}
	steps = slices.Clone(steps)
	slices.SortFunc(steps, func(a, b step) int { return int(int64(a.from) - int64(b.from)) })
	for i, s := range steps {
		switch {
		case s.from == 0 || s.from >= k.version:
			return fmt.Errorf("upcaster from version %d: the kind's versions are 1…%d, so steps go from 1…%d", s.from, k.version, k.version-1)
		case i > 0 && s.from == steps[i-1].from:
			return fmt.Errorf("two upcasters from version %d", s.from)
		case i > 0 && s.from != steps[i-1].from+1:
			return fmt.Errorf("no upcaster from version %d to %d (the chain has a gap)", steps[i-1].from+1, steps[i-1].from+2)
		case i > 0 && s.in != steps[i-1].out:
			return fmt.Errorf("upcaster %d→%d gives %s, but upcaster %d→%d takes %s", s.from-1, s.from, steps[i-1].out, s.from, s.from+1, s.in)
		}
	}
	last := steps[len(steps)-1]
	if last.from != k.version-1 {
		return fmt.Errorf("no upcaster from version %d to %d (the chain ends below the kind's version)", last.from+1, last.from+2)
	}
	if last.out != k.typ {
		return fmt.Errorf("the last upcaster gives %s, but the kind's type is %s", last.out, k.typ)
	}
	k.steps, k.lowest = steps, steps[0].from
	return nil
}

// Kind is the event kind k binds.
func (k *Kind[T]) Kind() event.EventKind { return k.kind }

// Name is k's name, as stores keep it and tools print it.
func (k *Kind[T]) Name() string { return k.name }

// Version is k's current payload version.
func (k *Kind[T]) Version() uint32 { return k.version }

// Info describes k as Registry.Lookup does.
func (k *Kind[T]) Info() Info {
	return Info{Kind: k.kind, Name: k.name, Version: k.version, Type: k.typ.String()}
}

func (k *Kind[T]) String() string {
	return fmt.Sprintf("%s (%#04x, version %d)", k.name, uint16(k.kind), k.version)
}

// Payload makes v an append's payload: appended under k's kind (any other
// is refused with ErrWrongKind), it is encoded with the store's codec and
// stored with k's version, and the store learns k's name first.
//
//	_, err := store.Append(ctx, coord, Moved.Kind(), Moved.Payload(m))
func (k *Kind[T]) Payload(v T) event.Typed {
	return event.Typed{Kind: k.kind, Name: k.name, Version: k.version, Value: v}
}

// Decode decodes ev's payload into a T, whatever version it was stored
// with: the current version is decoded as it is, an older one (a stored
// version 0 counts as Unversioned's) is decoded as its own shape and
// upcast step by step. Errors: ErrWrongKind for an event of another kind,
// ErrVersionTooNew, ErrNoUpcaster, ErrUpcast, or the codec's error. No
// error ever comes with a zero T standing in for a value.
func (k *Kind[T]) Decode(ev *event.StoredEvent) (T, error) {
	var out T
	if ev.Kind != k.kind {
		return out, fmt.Errorf("%w: event %d is kind %#04x, not %s", ErrWrongKind, ev.Global, uint16(ev.Kind), k)
	}
	v := ev.PayloadVersion
	if v == 0 {
		v = k.unversioned
	}
	if v == k.version {
		if err := ev.Decode(&out); err != nil {
			return out, k.decodeErr(ev, v, err)
		}
		return out, nil
	}
	return k.upcast(ev, v)
}

// upcast reads a payload of version v < k.version and runs it up the chain.
func (k *Kind[T]) upcast(ev *event.StoredEvent, v uint32) (T, error) {
	var zero T
	switch {
	case v > k.version:
		return zero, fmt.Errorf("%w: event %d holds version %d of %s", ErrVersionTooNew, ev.Global, v, k)
	case v < k.lowest:
		if len(k.steps) == 0 {
			return zero, fmt.Errorf("%w: event %d holds version %d of %s, which has no upcasters", ErrNoUpcaster, ev.Global, v, k)
		}
		return zero, fmt.Errorf("%w: event %d holds version %d of %s, whose upcasters start at version %d",
			ErrNoUpcaster, ev.Global, v, k, k.lowest)
	}
	i := v - k.lowest
	x, err := k.steps[i].decode(ev)
	if err != nil {
		return zero, k.decodeErr(ev, v, err)
	}
	for ; int(i) < len(k.steps); i++ {
		s := &k.steps[i]
		if x, err = s.apply(x); err != nil {
			return zero, fmt.Errorf("%w: %s, event %d, version %d to %d: %w", ErrUpcast, k.name, ev.Global, s.from, s.from+1, err)
		}
	}
	return x.(T), nil
}

func (k *Kind[T]) decodeErr(ev *event.StoredEvent, v uint32, err error) error {
	return fmt.Errorf("kinds: decoding event %d as version %d of %s: %w", ev.Global, v, k, err)
}
