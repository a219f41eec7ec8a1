package projector

import (
	"errors"
	"fmt"
	"time"

	"github.com/batpak-go/batpak/event"
)

// Errors of package projector. Match them with errors.Is.
var (
	// ErrInvalidSpec is returned for a projection whose Spec has no name.
	ErrInvalidSpec = errors.New("projector: invalid projection spec")
	// ErrCorruptEntry is returned by a cache's Get for an entry that fails
	// its checks; the projection replays from the log instead.
	ErrCorruptEntry = errors.New("projector: corrupt cache entry")
	// ErrUnknownProjection is returned for a name no live projection has.
	ErrUnknownProjection = errors.New("projector: unknown projection")
	// ErrDuplicateProjection is returned when a live projection's name is taken.
	ErrDuplicateProjection = errors.New("projector: duplicate projection name")
	// ErrStopped is returned by waits on a projection that has stopped for
	// good: its projector was closed, or it crashed past its restart budget.
	ErrStopped = errors.New("projector: projection stopped")
)

// Spec describes a projection. It is what a state type's Projection method
// returns, and it must not depend on the state: it is called on a zero value.
type Spec struct {
	// Name identifies the projection in caches and in the projector. Two
	// projections sharing a cache need different names.
	Name string
	// Version is the schema version of the state. Bump it whenever the state's
	// shape or the meaning of Apply changes: cached states of any other
	// version are then ignored and rebuilt from the log.
	Version uint32
	// Kinds lists the event kinds Apply cares about. Events of other kinds are
	// skipped by the index, without their frames being read or their payloads
	// decoded. Empty means every kind.
	Kinds []event.EventKind
	// Incremental declares Apply a pure fold: the state after events a..c is
	// the state after a..b with b+1..c applied. A cached state at watermark w
	// is then brought up to date by applying only the events after w.
	// Without it, a cached state is used only while no relevant event has
	// arrived since it was cached; otherwise the whole stream is replayed.
	Incremental bool
}

// filter is the index filter for the spec's kinds.
func (s Spec) filter() event.KindFilter {
	switch len(s.Kinds) {
	case 0:
		return event.AnyKind()
	case 1:
		return event.ExactKind(s.Kinds[0])
	}
	return event.KindSet(s.Kinds...)
}

func (s Spec) check() error {
	if s.Name == "" {
		return fmt.Errorf("%w: empty name", ErrInvalidSpec)
	}
	return nil
}

// EventSourced is the constraint on a projection's state type T: a pointer
// to T describes the projection and applies events to the state. It is the
// Go form of the original's EventSourced trait.
//
//	type Counter struct{ N int }
//
//	func (*Counter) Projection() projector.Spec {
//		return projector.Spec{Name: "counter", Version: 1, Kinds: []event.EventKind{Incremented}, Incremental: true}
//	}
//
//	func (c *Counter) Apply(*event.StoredEvent) error { c.N++; return nil }
//
// The initial state is the zero T, or what Init leaves if *T implements
// Initializer. Cached states are stored with the state's codec (see
// MarshalState), so a state must survive that round trip intact.
//
// Apply receives an event that is valid only during the call: its Payload
// aliases a read buffer that is reused. Decode from it, or copy what you keep.
// Apply must not block; an error it returns fails the projection.
type EventSourced[T any] interface {
	*T
	Projection() Spec
	Apply(ev *event.StoredEvent) error
}

// Initializer is implemented by states whose initial value is not the zero
// value: Init is called on a zero state before the first event is applied.
type Initializer interface{ Init() }

// initial returns the initial state.
func initial[T any, P EventSourced[T]]() T {
	var s T
	if in, ok := any(P(&s)).(Initializer); ok {
		in.Init()
	}
	return s
}

// Freshness says how stale a projected state may be: Consistent, or
// MaybeStale(maxAge).
type Freshness time.Duration

// Consistent asks for a state that includes every event visible when the
// projection starts.
const Consistent Freshness = 0

// MaybeStale allows a cached state computed up to maxAge ago, returned
// without looking at the log. Without such a cached state the projection is
// Consistent. A maxAge of zero or less is Consistent.
func MaybeStale(maxAge time.Duration) Freshness {
	if maxAge < 0 {
		return Consistent
	}
	return Freshness(maxAge)
}

// MaxAge is the staleness allowed; zero for Consistent.
func (f Freshness) MaxAge() time.Duration { return time.Duration(f) }

func (f Freshness) String() string {
	if f <= 0 {
		return "consistent"
	}
	return fmt.Sprintf("maybe-stale(%v)", time.Duration(f))
}
