package projector

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/batpak-go/batpak/event"
)

// Log is a projection's read access to the store. The facade provides one
// over the index and the segment files; tests provide fakes.
type Log interface {
	// Head is the global sequence of the newest visible event, 0 if none.
	Head() uint64
	// Scan calls fn, in global order, with each visible event of r whose
	// global sequence is in (after, through]. The event is valid only during
	// the call (its payload may alias a reused buffer). Scan stops at the
	// first error, from fn or from reading, and returns it.
	Scan(ctx context.Context, r event.Region, after, through uint64, fn func(*event.StoredEvent) error) error
}

// Subject is what a projection folds: one entity's stream, or every event
// of a region (a read model across many entities).
type Subject struct {
	region event.Region
	key    string
}

// Entity is the subject of one entity's events.
func Entity(name string) Subject {
	return Subject{region: event.Region{Entity: name}, key: name}
}

// Over is the subject of every event in r, in global order.
func Over(r event.Region) Subject {
	// Entities cannot contain NUL, so region keys never collide with them.
	return Subject{region: r, key: "\x00region" + regionKey(r)}
}

// regionKey is a region's part of a cache key. A region with one exact
// scope or none keeps the key it had before regions had scope prefixes
// and sets (the %+v of these fields), so cached states stay valid; the
// others add their scope terms.
func regionKey(r event.Region) string {
	key := fmt.Sprintf("%+v", struct {
		Entity       string
		EntityPrefix bool
		Scope        string
		Kinds        event.KindFilter
		MinSequence  uint64
		MaxSequence  uint64
	}{r.Entity, r.EntityPrefix, r.Scope, r.Kinds, r.MinSequence, r.MaxSequence})
	if names, prefixes, all := r.Scopes(); !all && (len(names) != 1 || len(prefixes) > 0) {
		key += fmt.Sprintf(" scopes:%q prefixes:%q", names, prefixes)
	}
	return key
}

// Region is the subject's region.
func (s Subject) Region() event.Region { return s.region }

// Key is the subject's part of a cache key.
func (s Subject) Key() string { return s.key }

func (s Subject) String() string {
	if e, ok := s.region.ExactEntity(); ok && s.key == e {
		return e
	}
	return fmt.Sprintf("region %+v", s.region)
}

// Options are the knobs of Project.
type Options struct {
	// Cache holds states between projections; nil caches nothing.
	Cache Cache
	// Now is the clock for MaybeStale and for CachedAt; nil means time.Now.
	Now func() time.Time
	// AsOf, if not 0, asks for the state as it was at that global
	// position: every event of the subject up to and including AsOf, none
	// after (see Project). 0 means the visible head.
	AsOf uint64
}

// Result is a projected state and where it stands.
type Result[T any] struct {
	State T
	// Watermark is the global sequence the state is complete through.
	Watermark uint64
	// Cached is true when the state started from a cached one.
	Cached bool
	// Applied is the number of events this projection applied.
	Applied int
}

// ApplyError is a failure of a projection's Apply, with the event it failed on.
type ApplyError struct {
	Projection string
	Global     uint64
	ID         event.ID
	Kind       event.EventKind
	Err        error
}

func (e *ApplyError) Error() string {
	return fmt.Sprintf("projector: %s: applying event %d (%v, kind %v): %v", e.Projection, e.Global, e.ID, e.Kind, e.Err)
}

func (e *ApplyError) Unwrap() error { return e.Err }

// ErrNotVisible is returned by an as-of projection (Options.AsOf) for a
// position past the newest visible event: what it will hold is not known
// yet. Wait for it first (Source.WaitVisible, Store.WaitVisible).
var ErrNotVisible = errors.New("projector: as-of position not yet visible")

// errStale stops a scan that found an event after a cached state which
// cannot be extended incrementally.
var errStale = errors.New("projector: cached state is stale")

// plan is a projection's spec resolved against its subject.
type plan struct {
	spec  Spec
	key   Key
	scan  event.Region     // what the log is asked for
	extra event.KindFilter // a second kind filter, when subject and spec both have one
}

func planFor[T any, P EventSourced[T]](sub Subject) (plan, error) {
	var zero T
	spec := P(&zero).Projection()
	if err := spec.check(); err != nil {
		return plan{}, err
	}
	p := plan{spec: spec, key: Key{Name: spec.Name, Version: spec.Version, Subject: sub.key}, scan: sub.region}
	if len(spec.Kinds) > 0 {
		if !sub.region.Kinds.IsAny() {
			p.extra = sub.region.Kinds
		}
		p.scan.Kinds = spec.filter()
	}
	return p, nil
}

// apply folds the events of p in (after, through] into s and returns how
// many it applied. With stopAtFirst it applies none and returns errStale at
// the first event.
func apply[T any, P EventSourced[T]](ctx context.Context, log Log, p *plan, s *T, after, through uint64, stopAtFirst bool) (int, error) {
	if after >= through {
		return 0, nil
	}
	n := 0
	err := log.Scan(ctx, p.scan, after, through, func(ev *event.StoredEvent) error {
		if !p.extra.Matches(ev.Kind) {
			return nil
		}
		if stopAtFirst {
			return errStale
		}
		if err := P(s).Apply(ev); err != nil {
			return &ApplyError{Projection: p.spec.Name, Global: ev.Global, ID: ev.ID, Kind: ev.Kind, Err: err}
		}
		n++
		return nil
	})
	return n, err
}

// Project folds sub's events into a T, using and refreshing opts.Cache.
//
// With Consistent freshness the state includes every event visible when
// Project starts. A cached state at watermark w is extended with the events
// after w if the spec is Incremental, used as it is if nothing relevant
// arrived after w, and otherwise replaced by a full replay. MaybeStale(d)
// returns a cached state computed at most d ago without reading the log.
//
// With opts.AsOf the state is the one at that position, exactly: for
// replays and disputes. Freshness does not apply. A cached state newer
// than the position is never used (and not replaced: it is the better
// entry for later reads); an older one is extended up to the position as
// above, and the extended state cached.
//
// Cache failures never fail a projection: an entry that cannot be read or
// decoded is replayed over, and a failed Put is dropped.
func Project[T any, P EventSourced[T]](ctx context.Context, log Log, sub Subject, fresh Freshness, opts Options) (Result[T], error) {
	p, err := planFor[T, P](sub)
	if err != nil {
		return Result[T]{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result[T]{}, err
	}
	var through uint64 // 0: the head, read when needed (a fresh cached state needs none)
	if opts.AsOf > 0 {
		if head := log.Head(); opts.AsOf > head {
			return Result[T]{}, fmt.Errorf("%w: %d, the head is %d", ErrNotVisible, opts.AsOf, head)
		}
		through, fresh = opts.AsOf, Consistent
	}
	if !caching(opts.Cache) {
		return replay[T, P](ctx, log, &p, through)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	res, ok, keep, err := fromCache[T, P](ctx, log, &p, fresh, opts.Cache, now, through, opts.AsOf > 0)
	if ok || err != nil {
		return res, err
	}
	res, err = replay[T, P](ctx, log, &p, through)
	if err == nil && !keep {
		store[T](opts.Cache, &p, &res, now)
	}
	return res, err
}

// replay folds every event of p up to through (0: the head).
func replay[T any, P EventSourced[T]](ctx context.Context, log Log, p *plan, through uint64) (Result[T], error) {
	if through == 0 {
		through = log.Head()
	}
	res := Result[T]{State: initial[T, P](), Watermark: through}
	n, err := apply[T, P](ctx, log, p, &res.State, 0, res.Watermark, false)
	if err != nil {
		return Result[T]{}, err
	}
	res.Applied = n
	return res, nil
}

// fromCache serves p through through (0: the head) from a cached state if
// it can; ok false means replay, and keep that the cached entry is newer
// than an as-of read's position and must stay.
func fromCache[T any, P EventSourced[T]](ctx context.Context, log Log, p *plan, fresh Freshness, c Cache, now func() time.Time, through uint64, asOf bool) (res Result[T], ok, keep bool, err error) {
	e, hit, gerr := c.Get(p.key)
	if gerr != nil || !hit {
		return res, false, false, nil
	}
	if fresh > 0 && now().Sub(e.CachedAt) <= time.Duration(fresh) {
		if err := UnmarshalState(e.State, &res.State); err != nil {
			return Result[T]{}, false, false, nil
		}
		res.Cached, res.Watermark = true, e.Watermark
		return res, true, false, nil
	}
	if through == 0 {
		through = log.Head()
	}
	if e.Watermark > through {
		// Newer than an as-of position: it holds events the read must not
		// see. Or, for a read at the head, a state from beyond the log (a
		// cache kept across a restore, or events lost in OnWrite mode): it
		// cannot be trusted.
		return res, false, asOf, nil
	}
	if e.Watermark < through && !holds(ctx, log, e.Watermark) {
		// The same, once the log has moved on: a crash lost the events
		// the state was computed through, and numbering resumed above
		// them, so the state counts events the log no longer has.
		return Result[T]{}, false, false, nil
	}
	if err := UnmarshalState(e.State, &res.State); err != nil {
		return Result[T]{}, false, false, nil
	}
	res.Cached, res.Watermark = true, e.Watermark
	n, err := apply[T, P](ctx, log, p, &res.State, e.Watermark, through, !p.spec.Incremental)
	switch {
	case errors.Is(err, errStale):
		return Result[T]{}, false, false, nil
	case err != nil:
		return Result[T]{}, false, false, err
	}
	res.Applied, res.Watermark = n, through
	if n > 0 {
		store[T](c, p, &res, now)
	}
	return res, true, false, nil
}

// holds reports whether the log still has the event at global sequence w,
// the newest event when a cached state was computed (0: the empty log).
// A log keeps a prefix of itself through a crash and never numbers two
// events alike, so while it holds that event it holds every event the
// state was computed from. An event compaction dropped reads as missing:
// the state is replayed, which is right, if slower.
func holds(ctx context.Context, log Log, w uint64) bool {
	if w == 0 {
		return true
	}
	found := false
	err := log.Scan(ctx, event.AllEvents(), w-1, w, func(*event.StoredEvent) error {
		found = true
		return nil
	})
	return err == nil && found
}

// store puts res in the cache, dropping any failure (the log is the truth).
func store[T any](c Cache, p *plan, res *Result[T], now func() time.Time) {
	b, err := MarshalState(&res.State)
	if err != nil {
		return
	}
	_ = c.Put(p.key, Entry{State: b, Watermark: res.Watermark, CachedAt: now()})
}
