package batpak

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/projector"
)

// Freshness says how stale a projected state may be.
type Freshness = projector.Freshness

// Consistent asks for a state that includes every event visible when the
// projection starts.
const Consistent = projector.Consistent

// MaybeStale allows a cached state computed up to maxAge ago, returned
// without reading the log; without one the projection is Consistent.
func MaybeStale(maxAge time.Duration) Freshness { return projector.MaybeStale(maxAge) }

// ProjectOption configures one projection.
type ProjectOption func(*projectConfig)

type projectConfig struct {
	cache projector.Cache
	wake  int
	asOf  uint64
}

// FromCache makes a projection use and refresh c (a projector.MemoryCache,
// FileCache or any Cache; default none). A cache serves one store: its keys
// are the projection, its schema version and the entity, not the store.
func FromCache(c projector.Cache) ProjectOption {
	return func(pc *projectConfig) { pc.cache = c }
}

// AsOf makes Project and ProjectRegion return the state as it was at
// global position pos (a receipt's Global), never from a cached state
// newer than pos (see projector.Options.AsOf). Watches refuse it.
func AsOf(pos uint64) ProjectOption { return func(pc *projectConfig) { pc.asOf = pos } }

// WakeBuffer sets the buffer of the subscription that wakes a watch
// (default 16). A full buffer drops wake-ups, never updates.
func WakeBuffer(n int) ProjectOption {
	return func(pc *projectConfig) { pc.wake = n }
}

// Project folds entity's events, read through es.ProjectionLog, into a T
// (the projection: see projector.EventSourced) and returns it. Events of
// kinds the projection does not list are not read; an entity with no
// events projects to the initial state.
//
//	n, err := batpak.Project[Counter](ctx, store, "counter:1", batpak.Consistent)
//
// With a cache (FromCache) a cached state is brought up to date by applying
// only the newer events, if the projection is Incremental; MaybeStale(d)
// accepts a cached state up to d old (by the embedded store's WithClock)
// without reading the log at all. AsOf(pos) returns the state as it was
// at pos instead.
func Project[T any, P projector.EventSourced[T]](ctx context.Context, es EventStore, entity string, fresh Freshness, opts ...ProjectOption) (T, error) {
	if err := event.ValidatePart("entity", entity); err != nil {
		var zero T
		return zero, err
	}
	return project[T, P](ctx, es, projector.Entity(entity), fresh, opts)
}

// ProjectRegion folds every event of r, in global order, into a T: a read
// model across many entities. It is cached like Project, keyed by the region.
func ProjectRegion[T any, P projector.EventSourced[T]](ctx context.Context, es EventStore, r Region, fresh Freshness, opts ...ProjectOption) (T, error) {
	return project[T, P](ctx, es, projector.Over(r), fresh, opts)
}

func project[T any, P projector.EventSourced[T]](ctx context.Context, es EventStore, sub projector.Subject, fresh Freshness, opts []ProjectOption) (T, error) {
	var pc projectConfig
	for _, o := range opts {
		o(&pc)
	}
	var zero T
	now, err := projectionClock(ctx, es)
	if err != nil {
		return zero, err
	}
	res, err := projector.Project[T, P](ctx, es.ProjectionLog(), sub, fresh, projector.Options{Cache: pc.cache, Now: now, AsOf: pc.asOf})
	if err != nil {
		return zero, err
	}
	return res.State, nil
}

// projectionClock checks that es is open and returns its projections'
// clock: the embedded store's (WithClock), else nil (time.Now).
func projectionClock(ctx context.Context, es EventStore) (func() time.Time, error) {
	if s, ok := es.(*Store); ok {
		return s.cfg.w.Clock, s.readable(ctx)
	}
	return nil, ctx.Err()
}

// WatchProjection returns a watch of entity's projected state: Next
// returns the current state, then blocks until new events change it. It is
// woken by a subscription to the entity's relevant events and reads the
// log from its watermark on each wake-up, so it converges whatever
// notifications are dropped, and a slow reader gets the latest state, not
// a backlog. Close it when done (closing the store ends it too).
// FromCache seeds its first state.
//
//	w, err := batpak.WatchProjection[Counter](store, "counter:1")
//	defer w.Close()
//	for u, err := range w.All(ctx) { ... u.State, u.Watermark ... }
func WatchProjection[T any, P projector.EventSourced[T]](es EventStore, entity string, opts ...ProjectOption) (*projector.Watch[T], error) {
	if err := event.ValidatePart("entity", entity); err != nil {
		return nil, err
	}
	return watch[T, P](es, projector.Entity(entity), opts)
}

// WatchRegion is WatchProjection for a read model folded over region.
func WatchRegion[T any, P projector.EventSourced[T]](es EventStore, r Region, opts ...ProjectOption) (*projector.Watch[T], error) {
	return watch[T, P](es, projector.Over(r), opts)
}

func watch[T any, P projector.EventSourced[T]](es EventStore, sub projector.Subject, opts []ProjectOption) (*projector.Watch[T], error) {
	pc := projectConfig{wake: 16}
	for _, o := range opts {
		o(&pc)
	}
	if pc.asOf != 0 {
		return nil, fmt.Errorf("%w: a watch follows the head; AsOf is for Project", ErrInvalidOption)
	}
	now, err := projectionClock(context.Background(), es)
	if err != nil {
		return nil, err
	}
	// Subscribe before the first read, so no event falls between them.
	r := sub.Region()
	var zero T
	if kinds := P(&zero).Projection().Kinds; len(kinds) > 0 && r.Kinds.IsAny() {
		r = r.WithKinds(event.KindSet(kinds...))
	}
	wake, err := es.Subscribe(r, pc.wake)
	if err != nil {
		return nil, err
	}
	w, err := projector.NewWatch[T, P](es.ProjectionLog(), sub, wake, projector.Options{Cache: pc.cache, Now: now})
	if err != nil {
		wake.Close()
		return nil, err
	}
	return w, nil
}

// NewProjector starts the projection actor's host over es: each live
// projection registered with projector.Register is built from the log,
// then kept up to date by a cursor, under a supervisor that rebuilds a
// crashed one. It restarts and logs as the embedded store does
// (WithRestartPolicy, WithLogger); elsewhere as projector.New does, which
// takes other choices: projector.New(es.ProjectionLog(), opts).
// WaitApplied gives read-your-writes:
//
//	p, err := batpak.NewProjector(store)
//	defer p.Close()
//	board, err := projector.Register[Leaderboard](p, "", projector.Over(event.ForEntity("player:*")))
//	r, err := store.Append(ctx, coord, kind, payload)
//	err = p.WaitApplied(ctx, "leaderboard", r.Global)
//	u, err := board.Snapshot(ctx) // includes the append
//
// Close it before the store; if the store closes first, its projections
// stop (projector.ErrStopped) and Close only joins them.
func NewProjector(es EventStore) (*projector.Projector, error) {
	var opts projector.HostOptions
	if s, ok := es.(*Store); ok {
		if _, err := s.liveHub(); err != nil {
			return nil, err
		}
		opts = projector.HostOptions{Logger: s.log, Policy: s.cfg.restart.supervised()}
	}
	return projector.New(es.ProjectionLog(), opts)
}

// ProjectionLog is the store as a projector.Source: its visible head, a
// scan of a region's events, cursors to follow it. Project, the watches
// and NewProjector use it; so may callers of package projector.
func (s *Store) ProjectionLog() projector.Source { return storeLog{s} }

type storeLog struct{ s *Store }

func (l storeLog) Head() uint64 { return l.s.idx.LastGlobal() }

func (l storeLog) Follow(r event.Region, from uint64) (projector.Feed, error) {
	return l.s.Cursor(r, from)
}

func (l storeLog) WaitVisible(ctx context.Context, pos uint64) error {
	return l.s.WaitVisible(ctx, pos)
}

func (l storeLog) Final(err error) bool {
	if errors.Is(err, ErrClosed) || l.s.closed.Load() {
		return true
	}
	select {
	case <-l.s.done:
		return true
	default:
		return false
	}
}

// Scan is reader.Segments.Scan with the store's checks; fn's error is
// returned as it is.
func (l storeLog) Scan(ctx context.Context, r event.Region, after, through uint64, fn func(*event.StoredEvent) error) error {
	s := l.s
	if err := s.readable(ctx); err != nil {
		return err
	}
	fnFailed := false
	err := s.segs.Scan(s.idx, r, after, through, func() error { return s.readable(ctx) }, func(ev *event.StoredEvent) error {
		err := fn(ev)
		fnFailed = err != nil
		return err
	})
	if fnFailed {
		return err // fn's own, as it is
	}
	return s.readErr(err)
}
