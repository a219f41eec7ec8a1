package actor

import (
	"context"
	"errors"
	"runtime/pprof"
	"sync"
)

var (
	// ErrStopped is returned by a send or wait whose actor has stopped.
	ErrStopped = errors.New("actor: stopped")
	// ErrFull is returned by TrySend on a full mailbox.
	ErrFull = errors.New("actor: mailbox full")
)

// Mailbox is a bounded channel of one message type, tied to the done
// channel of the actor that reads it.
type Mailbox[T any] struct {
	c    chan T
	done <-chan struct{}
}

// NewMailbox returns a mailbox of the given capacity. done is closed when
// the reading actor has stopped for good.
func NewMailbox[T any](capacity int, done <-chan struct{}) *Mailbox[T] {
	return &Mailbox[T]{c: make(chan T, capacity), done: done}
}

// Send blocks until v is queued, ctx ends (ctx.Err()) or the actor stops
// (ErrStopped). A context already done queues nothing.
func (m *Mailbox[T]) Send(ctx context.Context, v T) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case m.c <- v: // fast path: room in the mailbox
		return nil
	default:
	}
	select {
	case m.c <- v:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-m.done:
		return ErrStopped
	}
}

// TrySend queues v if there is room, else returns ErrFull.
func (m *Mailbox[T]) TrySend(v T) error {
	select {
	case m.c <- v:
		return nil
	default:
		return ErrFull
	}
}

// C is the receiving end, for the owning actor's select.
func (m *Mailbox[T]) C() <-chan T { return m.c }

// Len is the number of queued messages.
func (m *Mailbox[T]) Len() int { return len(m.c) }

// Cap is the mailbox capacity.
func (m *Mailbox[T]) Cap() int { return cap(m.c) }

// Await receives from reply (a channel buffered to one, so the replying
// actor never blocks), unless ctx ends or done closes first.
func Await[T any](ctx context.Context, reply <-chan T, done <-chan struct{}) (T, error) {
	select {
	case v := <-reply: // fast path
		return v, nil
	default:
	}
	var zero T
	select {
	case v := <-reply:
		return v, nil
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-done:
		// The actor may have replied just before stopping.
		select {
		case v := <-reply:
			return v, nil
		default:
			return zero, ErrStopped
		}
	}
}

// Group starts goroutines through one tracked, labelled path and joins them.
// After Close it refuses new goroutines, so nothing can start behind a join.
type Group struct {
	mu     sync.Mutex
	wg     sync.WaitGroup
	closed bool // guarded by mu
}

// Go runs fn in a new goroutine labelled actor=name for profiles. It
// returns ErrStopped after Close.
func (g *Group) Go(name string, fn func(ctx context.Context)) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return ErrStopped
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		pprof.Do(context.Background(), pprof.Labels("actor", name), fn)
	}()
	return nil
}

// Close refuses new goroutines and waits for every started one to return.
func (g *Group) Close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.wg.Wait()
}
