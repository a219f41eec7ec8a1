package projector

import (
	"context"
	"iter"
	"sync"
	"sync/atomic"
)

// Update is a state handed out by a watch or a live projection, with the
// watermark it is complete through.
type Update[T any] struct {
	State     T
	Watermark uint64
}

// Watch is a stream of the projected state of a subject, pulled with Next:
// the first call returns the current state, each later call the next state
// that differs from it (one that applied at least one new event).
//
// A watch converges even when wake-ups are lost: it is woken by a lossy
// subscription (its Waker), but on every wake-up it reads the log from its
// watermark up to the head, so a dropped notification only means that
// several events arrive in one update. A slow consumer therefore never sees
// a backlog of stale states, only the latest one.
//
// Next runs on the caller's goroutine; the watch starts none of its own.
type Watch[T any] struct {
	log   Log
	wake  Waker
	sub   Subject
	opts  Options
	build func(ctx context.Context) (Result[T], error)
	fold  func(ctx context.Context, s *T, after, through uint64) (int, error)
	stale func(ctx context.Context, after, through uint64) (bool, error)

	sem       chan struct{} // held by the running Next
	closec    chan struct{} // closed by Close
	closed    atomic.Bool
	closeOnce sync.Once

	// Owned by the holder of sem.
	state T
	mark  uint64 // state is complete through mark
	built bool   // state is trustworthy; false before the first Next and after a failed apply
}

// NewWatch returns a watch of sub's projected state, woken by wake, which
// must already be subscribed to sub's region (so no event slips between
// the subscription and the first read). The watch owns wake and closes it.
// opts.Cache, if set, seeds the first state.
func NewWatch[T any, P EventSourced[T]](log Log, sub Subject, wake Waker, opts Options) (*Watch[T], error) {
	p, err := planFor[T, P](sub)
	if err != nil {
		return nil, err
	}
	w := &Watch[T]{
		log: log, wake: wake, sub: sub, opts: opts,
		sem: make(chan struct{}, 1), closec: make(chan struct{}),
	}
	w.build = func(ctx context.Context) (Result[T], error) {
		return Project[T, P](ctx, log, sub, Consistent, opts)
	}
	w.fold = func(ctx context.Context, s *T, after, through uint64) (int, error) {
		return apply[T, P](ctx, log, &p, s, after, through, false)
	}
	w.stale = func(ctx context.Context, after, through uint64) (bool, error) {
		_, err := apply[T, P](ctx, log, &p, nil, after, through, true)
		if err == errStale {
			return true, nil
		}
		return false, err
	}
	if !p.spec.Incremental {
		// Not a pure fold: a relevant new event means a full replay.
		w.fold = func(ctx context.Context, s *T, after, through uint64) (int, error) {
			if stale, err := w.stale(ctx, after, through); err != nil || !stale {
				return 0, err
			}
			res, err := replay[T, P](ctx, log, &p, 0)
			if err != nil {
				return 0, err
			}
			*s = res.State
			w.mark = res.Watermark
			return max(res.Applied, 1), nil
		}
	}
	return w, nil
}

// Next returns the current state on the first call, and afterwards blocks
// until the state changes and returns the new one. It returns ctx's error,
// ErrStopped after Close, or the waker's error (the store closing).
func (w *Watch[T]) Next(ctx context.Context) (Update[T], error) {
	select {
	case w.sem <- struct{}{}:
	case <-ctx.Done():
		return Update[T]{}, ctx.Err()
	case <-w.closec:
		return Update[T]{}, ErrStopped
	}
	defer func() { <-w.sem }()
	if !w.built {
		res, err := w.build(ctx)
		if err != nil {
			return Update[T]{}, err
		}
		w.state, w.mark, w.built = res.State, res.Watermark, true
		return w.emit()
	}
	for {
		if w.closed.Load() {
			return Update[T]{}, ErrStopped
		}
		if head := w.log.Head(); head > w.mark {
			n, err := w.fold(ctx, &w.state, w.mark, head)
			if err != nil {
				w.built = false // possibly half applied: rebuild on the next call
				return Update[T]{}, err
			}
			w.mark = max(w.mark, head)
			if n > 0 {
				return w.emit()
			}
		}
		if _, err := w.wake.Recv(ctx); err != nil {
			if w.closed.Load() {
				return Update[T]{}, ErrStopped
			}
			return Update[T]{}, err
		}
	}
}

func (w *Watch[T]) emit() (Update[T], error) {
	s, err := cloneState(&w.state)
	if err != nil {
		return Update[T]{}, err
	}
	return Update[T]{State: s, Watermark: w.mark}, nil
}

// All yields Next's updates until it fails; the error is yielded last.
func (w *Watch[T]) All(ctx context.Context) iter.Seq2[Update[T], error] {
	return func(yield func(Update[T], error) bool) {
		for {
			u, err := w.Next(ctx)
			if err != nil {
				yield(Update[T]{}, err)
				return
			}
			if !yield(u, nil) {
				return
			}
		}
	}
}

// Close ends the watch and its waker; a blocked Next returns ErrStopped.
// It is idempotent.
func (w *Watch[T]) Close() error {
	var err error
	w.closeOnce.Do(func() {
		w.closed.Store(true)
		close(w.closec)
		err = w.wake.Close()
	})
	return err
}
