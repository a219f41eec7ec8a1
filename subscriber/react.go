package subscriber

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/batpak-go/batpak/event"
)

// ReactFunc handles one event of a react loop, typically by appending the
// events it causes. An error (or a panic) fails the loop, which its
// supervisor restarts per policy; the restarted loop retries the same event.
type ReactFunc func(ctx context.Context, ev *event.StoredEvent) error

// Loop runs a ReactFunc over the events a cursor delivers, one at a time,
// in order. It is a supervisor service: Serve is its run loop, and a crash
// (error or panic) is restarted by the supervisor with the event that
// failed tried again, so every event is handled at least once.
//
// A loop ends when its context (the one passed to NewLoop) ends, when Stop
// is called, when the store closes, or when its supervisor gives up on it
// (Fail). Done is closed then, and Err says why.
type Loop struct {
	name    string
	cur     *Cursor
	durable *DurableCursor // nil unless the loop's position is persisted
	react   ReactFunc

	ctx    context.Context // the loop's own lifetime
	cancel context.CancelFunc

	pending   *event.StoredEvent // owned by Serve: delivered, not yet handled
	processed atomic.Uint64

	endOnce sync.Once
	err     error // written once before donec closes
	donec   chan struct{}
}

// NewLoop returns a loop over the events cur delivers. The loop owns the
// cursor and closes it when it ends. ctx bounds the loop's life.
func NewLoop(ctx context.Context, name string, cur *Cursor, react ReactFunc) *Loop {
	l := &Loop{name: name, cur: cur, react: react, donec: make(chan struct{})}
	l.processed.Store(cur.Position())
	l.ctx, l.cancel = context.WithCancel(ctx)
	return l
}

// NewDurableLoop is NewLoop over a durable cursor: the loop acknowledges
// what it has handled each time it has worked through what it read, and
// when it ends, so a loop reopened under the same cursor name resumes there.
func NewDurableLoop(ctx context.Context, name string, cur *DurableCursor, react ReactFunc) *Loop {
	l := NewLoop(ctx, name, cur.Cursor, react)
	l.durable = cur
	return l
}

// Name is the name the loop runs under.
func (l *Loop) Name() string { return l.name }

// Position is the global sequence of the last event handled.
func (l *Loop) Position() uint64 { return l.processed.Load() }

// Done is closed when the loop has ended for good.
func (l *Loop) Done() <-chan struct{} { return l.donec }

// Err is nil while the loop runs and after a deliberate stop (its context,
// Stop, the store's Close); otherwise it is the failure that ended it.
func (l *Loop) Err() error {
	select {
	case <-l.donec:
		return l.err
	default:
		return nil
	}
}

// Stop ends the loop after the event in hand and waits for it to end, or
// for ctx.
func (l *Loop) Stop(ctx context.Context) error {
	l.cancel()
	select {
	case <-l.donec:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Fail ends the loop for good with err; its supervisor calls it when the
// restart policy allows no more restarts.
func (l *Loop) Fail(err error) { l.end(err) }

func (l *Loop) end(err error) {
	l.endOnce.Do(func() {
		if l.durable != nil {
			// Keep what was handled; the store is still open while its
			// loops stop, and Ack is bounded by the fsync it makes.
			_ = l.durable.Ack(context.WithoutCancel(l.ctx), l.processed.Load())
			l.durable.Close()
		} else {
			l.cur.Close()
		}
		l.err = err
		l.cancel()
		close(l.donec)
	})
}

// Serve runs the loop until it ends or fails; see Loop.
func (l *Loop) Serve(sctx context.Context) error {
	if l.ctx.Err() != nil || sctx.Err() != nil {
		l.end(nil)
		return nil
	}
	ctx, cancel := context.WithCancel(sctx)
	defer cancel()
	stop := context.AfterFunc(l.ctx, cancel)
	defer stop()
	for {
		if l.pending == nil {
			ev, err := l.cur.Next(ctx)
			if err != nil {
				return l.stopped(ctx, err)
			}
			l.pending = ev
		}
		if err := l.react(ctx, l.pending); err != nil {
			if ctx.Err() != nil {
				l.end(nil)
				return nil
			}
			return err
		}
		l.processed.Store(l.pending.Global)
		l.pending = nil
		if l.durable != nil && l.cur.buffered() == 0 {
			// Caught up with what was read: acknowledge the run.
			if err := l.durable.Ack(ctx, l.processed.Load()); err != nil {
				return l.stopped(ctx, err)
			}
		}
	}
}

// stopped decides what a cursor or ack error means: a deliberate end, the
// store's end, or a failure to restart from.
func (l *Loop) stopped(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		l.end(nil)
		return nil
	case l.cur.hub.closed() != nil:
		l.end(nil)
		return nil
	}
	select {
	case <-l.cur.hub.opts.Done:
		l.end(err) // the store failed stop
		return nil
	default:
	}
	return err
}
