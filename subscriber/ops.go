package subscriber

import (
	"context"
	"sync/atomic"

	"github.com/batpak-go/batpak/event"
)

// Stream is a lossy subscription or an operator over one: values received
// one at a time. Operators run on the receiver's goroutine, after the
// buffer; they start no goroutines.
type Stream[T any] interface {
	// Recv returns the next value; see Lossy.Recv.
	Recv(ctx context.Context) (T, error)
	// Dropped is the number of notifications the underlying subscription dropped.
	Dropped() uint64
	// Close closes the underlying subscription.
	Close() error
}

var _ Stream[event.Notification] = (*Lossy)(nil)

// Filter passes on the values keep returns true for. A region narrows a
// subscription before its buffer; Filter works after it, so what it
// discards still took buffer room.
func Filter[T any](s Stream[T], keep func(T) bool) Stream[T] {
	return &filter[T]{Stream: s, keep: keep}
}

type filter[T any] struct {
	Stream[T]
	keep func(T) bool
}

func (f *filter[T]) Recv(ctx context.Context) (T, error) {
	for {
		v, err := f.Stream.Recv(ctx)
		if err != nil || f.keep(v) {
			return v, err
		}
	}
}

// Map passes on fn of each value.
func Map[T, U any](s Stream[T], fn func(T) U) Stream[U] {
	return &mapped[T, U]{src: s, fn: fn}
}

type mapped[T, U any] struct {
	src Stream[T]
	fn  func(T) U
}

func (m *mapped[T, U]) Recv(ctx context.Context) (U, error) {
	v, err := m.src.Recv(ctx)
	if err != nil {
		var zero U
		return zero, err
	}
	return m.fn(v), nil
}

func (m *mapped[T, U]) Dropped() uint64 { return m.src.Dropped() }
func (m *mapped[T, U]) Close() error    { return m.src.Close() }

// Take passes on the first n values, then closes the underlying
// subscription and returns ErrDone. It is safe for concurrent Recv calls:
// exactly n values are passed on in all.
func Take[T any](s Stream[T], n int) Stream[T] {
	t := &take[T]{Stream: s}
	t.left.Store(int64(n))
	if n <= 0 {
		s.Close()
	}
	return t
}

type take[T any] struct {
	Stream[T]
	left atomic.Int64
}

func (t *take[T]) Recv(ctx context.Context) (T, error) {
	var zero T
	if t.left.Load() <= 0 {
		return zero, ErrDone
	}
	v, err := t.Stream.Recv(ctx)
	if err != nil {
		if t.left.Load() <= 0 {
			return zero, ErrDone // closed by a concurrent Recv that took the last value
		}
		return zero, err
	}
	switch left := t.left.Add(-1); {
	case left == 0:
		t.Stream.Close()
	case left < 0:
		return zero, ErrDone // a concurrent Recv took the last value first
	}
	return v, nil
}
