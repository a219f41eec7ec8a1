package projector

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/supervisor"
)

// liveBatch is how many events a live projection takes from its feed at
// once (more when one atomic batch alone has more: the feed keeps it whole).
const liveBatch = 256

// errFound stops a scan that only asks whether there is an event.
var errFound = errors.New("projector: found")

// Live is a projection kept up to date as events commit: an actor whose
// Serve method builds the state from the log and then follows a cursor,
// applying each batch of new events. It runs under a supervisor (see
// Projector); if it crashes, the restarted Serve rebuilds the state from the
// log and swaps it in, so the result is the state a crash-free run has.
//
// Readers never see a half-applied state: each read from the feed is
// applied under a write lock, and the feed never splits an atomic batch
// across reads (see Feed), so readers see all of a batch or none of it. If
// an Apply fails the state is marked untrustworthy, and readers wait,
// until the rebuild replaces it.
type Live[T any] struct {
	name    string
	src     Source
	p       plan
	build   func(ctx context.Context, through uint64) (T, error)
	applyTo func(s *T, ev *event.StoredEvent) error

	mu      sync.RWMutex
	state   T             // guarded by mu
	mark    uint64        // guarded by mu; state is complete through mark
	ready   bool          // guarded by mu; state is trustworthy
	changec chan struct{} // guarded by mu; closed and replaced when mark or ready changes
	haltErr error         // guarded by mu; set once, by Halt

	haltc    chan struct{} // closed by Halt
	haltOnce sync.Once
	builds   atomic.Int64
}

// NewLive returns a live projection of sub called name ("" means the
// spec's name). Run it with a Projector, or add it to a supervisor yourself
// and call Halt when it stops for good.
func NewLive[T any, P EventSourced[T]](src Source, name string, sub Subject) (*Live[T], error) {
	p, err := planFor[T, P](sub)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = p.spec.Name
	}
	l := &Live[T]{name: name, src: src, p: p, changec: make(chan struct{}), haltc: make(chan struct{})}
	l.build = func(ctx context.Context, through uint64) (T, error) {
		s := initial[T, P]()
		_, err := apply[T, P](ctx, src, &l.p, &s, 0, through, false)
		return s, err
	}
	l.applyTo = func(s *T, ev *event.StoredEvent) error {
		if err := P(s).Apply(ev); err != nil {
			return &ApplyError{Projection: l.name, Global: ev.Global, ID: ev.ID, Kind: ev.Kind, Err: err}
		}
		return nil
	}
	return l, nil
}

// Name is the projection's name.
func (l *Live[T]) Name() string { return l.name }

// Builds is how many times the state has been built from the log: 1 after
// the first start, one more after each restart.
func (l *Live[T]) Builds() int { return int(l.builds.Load()) }

// Serve is the actor's run loop: build the state from the log, swap it in,
// then apply what the feed delivers until ctx ends.
func (l *Live[T]) Serve(ctx context.Context) error {
	if l.halted() != nil {
		return nil
	}
	head := l.src.Head()
	// Follow before building, so nothing between the two can be missed;
	// events up to head are skipped below.
	feed, err := l.src.Follow(l.p.scan, head)
	if err != nil {
		return l.failed(err)
	}
	defer feed.Close()
	state, err := l.build(ctx, head)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return l.failed(err)
	}
	l.builds.Add(1)
	l.publish(state, head)
	for {
		evs, err := feed.NextBatch(ctx, liveBatch)
		if err != nil {
			if ctx.Err() != nil {
				return nil // stopping is not a failure
			}
			return l.failed(err)
		}
		if err := l.applyBatch(evs); err != nil {
			return err
		}
	}
}

// failed turns an error of the source into Serve's result: once the store
// has stopped, a restart could not help, so the projection halts.
func (l *Live[T]) failed(err error) error {
	if !l.src.Final(err) {
		return err
	}
	l.Halt(err)
	return fmt.Errorf("%w: %w", supervisor.ErrDoNotRestart, err)
}

// publish swaps in a freshly built state.
func (l *Live[T]) publish(s T, mark uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.state, l.mark, l.ready = s, max(l.mark, mark), true
	l.changedLocked()
}

// applyBatch applies evs to the state. If an Apply fails or panics, the
// state is marked untrustworthy before the lock is released.
func (l *Live[T]) applyBatch(evs []*event.StoredEvent) error {
	if len(evs) == 0 {
		return nil
	}
	l.mu.Lock()
	ok := false
	defer func() {
		if !ok {
			l.ready = false
			l.changedLocked()
		}
		l.mu.Unlock()
	}()
	for _, ev := range evs {
		if ev.Global <= l.mark || !l.p.extra.Matches(ev.Kind) {
			continue
		}
		if err := l.applyTo(&l.state, ev); err != nil {
			return err
		}
	}
	l.mark = max(l.mark, evs[len(evs)-1].Global)
	l.changedLocked()
	ok = true
	return nil
}

func (l *Live[T]) changedLocked() {
	close(l.changec)
	l.changec = make(chan struct{})
}

// Halt stops the projection for good: readers and waiters get an error
// wrapping ErrStopped and cause. The host calls it on close and when the
// supervisor gives up on the projection.
func (l *Live[T]) Halt(cause error) {
	l.haltOnce.Do(func() {
		err := ErrStopped
		if cause != nil && !errors.Is(cause, ErrStopped) {
			err = fmt.Errorf("%w: %s: %w", ErrStopped, l.name, cause)
		}
		l.mu.Lock()
		l.haltErr = err
		l.changedLocked()
		l.mu.Unlock()
		close(l.haltc)
	})
}

// Done is closed when the projection has stopped for good (see Halt);
// Err then says why.
func (l *Live[T]) Done() <-chan struct{} { return l.haltc }

// Err is nil while the projection runs, and afterwards an error wrapping
// ErrStopped.
func (l *Live[T]) Err() error { return l.halted() }

func (l *Live[T]) halted() error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.haltErr
}

// await waits until the state is trustworthy and calls fn with it under
// the read lock.
func (l *Live[T]) await(ctx context.Context, fn func(s *T, mark uint64) error) error {
	for {
		l.mu.RLock()
		if l.haltErr != nil {
			err := l.haltErr
			l.mu.RUnlock()
			return err
		}
		if l.ready {
			err := fn(&l.state, l.mark)
			l.mu.RUnlock()
			return err
		}
		c := l.changec
		l.mu.RUnlock()
		select {
		case <-c:
		case <-ctx.Done():
			return ctx.Err()
		case <-l.haltc:
		}
	}
}

// Read calls fn with the current state and its watermark, under a read
// lock: fn must be quick and must not keep s. It waits while the state is
// being built (at the start, and after a crash).
func (l *Live[T]) Read(ctx context.Context, fn func(s *T, watermark uint64)) error {
	return l.await(ctx, func(s *T, mark uint64) error { fn(s, mark); return nil })
}

// Snapshot returns a copy of the current state that shares no memory with
// it (see Cloner), and its watermark.
func (l *Live[T]) Snapshot(ctx context.Context) (Update[T], error) {
	var u Update[T]
	err := l.await(ctx, func(s *T, mark uint64) error {
		c, err := cloneState(s)
		u = Update[T]{State: c, Watermark: mark}
		return err
	})
	return u, err
}

// Watermark is the global sequence the state is complete through (0 while
// it is first being built).
func (l *Live[T]) Watermark() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.mark
}

// WaitApplied blocks until the state includes every event of the
// projection's subject with a global sequence up to pos — read-your-writes
// for the receipt of an append — or ctx ends, or the projection stops.
func (l *Live[T]) WaitApplied(ctx context.Context, pos uint64) error {
	if err := l.src.WaitVisible(ctx, pos); err != nil {
		return err
	}
	for {
		l.mu.RLock()
		mark, ready, herr, c := l.mark, l.ready, l.haltErr, l.changec
		l.mu.RUnlock()
		if herr != nil {
			return herr
		}
		if ready {
			if mark >= pos {
				return nil
			}
			// The feed delivers only the subject's events, so the mark
			// stops at the last of them: pos is applied if nothing of the
			// subject lies between.
			pending, err := l.pending(ctx, mark, pos)
			if err != nil || !pending {
				return err
			}
		}
		select {
		case <-c:
		case <-ctx.Done():
			return ctx.Err()
		case <-l.haltc:
		}
	}
}

// pending reports whether the subject has an event in (after, through].
func (l *Live[T]) pending(ctx context.Context, after, through uint64) (bool, error) {
	err := l.src.Scan(ctx, l.p.scan, after, through, func(ev *event.StoredEvent) error {
		if l.p.extra.Matches(ev.Kind) {
			return errFound
		}
		return nil
	})
	if err == errFound {
		return true, nil
	}
	return false, err
}
