package kinds

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/batpak-go/batpak/event"
)

// Registry binds Go types to event kinds and names, one each: it refuses
// two types on one kind and two kinds with one name when the second is
// defined. Lookups take no lock; Define is rare and serialised. A
// Registry is safe for concurrent use.
type Registry struct {
	mu sync.Mutex // serialises Define
	// defs is replaced whole by Define (copy on write), read lock-free.
	defs atomic.Pointer[registered]
}

type registered struct {
	byKind map[event.EventKind]*binding
	byName map[string]event.EventKind
}

// binding is one defined kind as the registry keeps it: the *Kind[T] (as
// any: the registry holds kinds of many types) and what Lookup reports.
type binding struct {
	info Info
	kind any
}

// Info describes a defined kind.
type Info struct {
	Kind    event.EventKind
	Name    string
	Version uint32 // the current payload version
	Type    string // the Go type bound to it, as reflect prints it
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	r := &Registry{}
	r.defs.Store(&registered{byKind: map[event.EventKind]*binding{}, byName: map[string]event.EventKind{}})
	return r
}

// Default is the registry of batpak.DefineKind and batpak.DecodeAs. Code
// that must not share one (tests, libraries defining kinds for others)
// makes its own with NewRegistry.
var Default = NewRegistry()

// Lookup returns what the registry binds to k.
func (r *Registry) Lookup(k event.EventKind) (Info, bool) {
	b, ok := r.defs.Load().byKind[k]
	if !ok {
		return Info{}, false
	}
	return b.info, true
}

// ByName returns the kind the registry gives name.
func (r *Registry) ByName(name string) (Info, bool) {
	d := r.defs.Load()
	k, ok := d.byName[name]
	if !ok {
		return Info{}, false
	}
	return d.byKind[k].info, true
}

// All lists the registry's kinds in kind order.
func (r *Registry) All() []Info {
	d := r.defs.Load()
	out := make([]Info, 0, len(d.byKind))
	for _, k := range slices.Sorted(maps.Keys(d.byKind)) {
		out = append(out, d.byKind[k].info)
	}
	return out
}

// add binds b, refusing a kind or a name already bound.
func (r *Registry) add(b *binding) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := r.defs.Load()
	if old, ok := d.byKind[b.info.Kind]; ok {
		return fmt.Errorf("%w: kind %#04x is already %q (type %s); %q (type %s) cannot have it too",
			ErrCollision, uint16(b.info.Kind), old.info.Name, old.info.Type, b.info.Name, b.info.Type)
	}
	if k, ok := d.byName[b.info.Name]; ok {
		return fmt.Errorf("%w: name %q is already kind %#04x (type %s); kind %#04x (type %s) cannot have it too",
			ErrCollision, b.info.Name, uint16(k), d.byKind[k].info.Type, uint16(b.info.Kind), b.info.Type)
	}
	next := &registered{byKind: maps.Clone(d.byKind), byName: maps.Clone(d.byName)}
	next.byKind[b.info.Kind] = b
	next.byName[b.info.Name] = b.info.Kind
	r.defs.Store(next)
	return nil
}

// Option configures Define.
type Option func(*definition)

// definition is what the options of one Define say.
type definition struct {
	version     uint32
	unversioned uint32
	steps       []step
	err         error // the first option that was out of range
}

// Version sets the kind's current payload version: the version typed
// appends record and typed reads deliver (default 1; at least 1). Older
// versions reach it through Upcast steps.
func Version(n uint32) Option {
	return func(d *definition) {
		if n == 0 && d.err == nil {
			d.err = fmt.Errorf("%w: version 0 means \"unversioned\"; versions start at 1", ErrDefinition)
		}
		d.version = n
	}
}

// Unversioned says which version to read an event stored without one as
// (an untyped append's, or one written before the kind was typed): default
// 1, the kind's first version. It must lie between 1 and the kind's
// version.
func Unversioned(n uint32) Option {
	return func(d *definition) { d.unversioned = n }
}

// Define binds T to the kind category:typ (event.Custom's rules: not a
// reserved category) under name, in r. It returns an error wrapping
// ErrDefinition for a definition that cannot work (CheckName, version 0,
// upcasters that do not chain up to T) and ErrCollision if r already binds
// the kind or the name. Every check is made here, so a program that
// defines its kinds at start-up learns of a mistake before it reads an
// event.
func Define[T any](r *Registry, name string, category uint8, typ uint16, opts ...Option) (*Kind[T], error) {
	k, err := newKind[T](name, category, typ, opts)
	if err != nil {
		return nil, err
	}
	if err := r.add(&binding{info: k.Info(), kind: k}); err != nil {
		return nil, err
	}
	return k, nil
}

// MustDefine is Define for package-level variables: it panics with
// Define's error.
//
//	var Moved = kinds.MustDefine[MovedV3](registry, "player.moved", 0x1, 0x002,
//		kinds.Version(3), kinds.Upcast(1, v1to2), kinds.Upcast(2, v2to3))
func MustDefine[T any](r *Registry, name string, category uint8, typ uint16, opts ...Option) *Kind[T] {
	k, err := Define[T](r, name, category, typ, opts...)
	if err != nil {
		panic(err)
	}
	return k
}

// Decode decodes ev's payload into the type r binds to its kind, upcast
// to the kind's version (Kind.Decode). It returns ErrUnregistered if r
// binds nothing to the kind, and ErrTypeMismatch if it binds another
// type than T.
func Decode[T any](r *Registry, ev *event.StoredEvent) (T, error) {
	b, ok := r.defs.Load().byKind[ev.Kind]
	if !ok {
		var zero T
		return zero, fmt.Errorf("%w: kind %#04x of event %d", ErrUnregistered, uint16(ev.Kind), ev.Global)
	}
	k, ok := b.kind.(*Kind[T])
	if !ok {
		var zero T
		return zero, fmt.Errorf("%w: %q (kind %#04x) is %s, not %s", ErrTypeMismatch, b.info.Name, uint16(ev.Kind),
			b.info.Type, reflect.TypeFor[T]())
	}
	return k.Decode(ev)
}
