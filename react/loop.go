package react

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/batpak-go/batpak/event"
)

// readAhead is how many events a loop takes from its cursor at a time; a
// durable loop acknowledges once it has handled them.
const readAhead = 256

// loop runs a reactor over what its feed delivers, one event at a time, in
// order. It is a supervisor service: Serve is its run loop, and a crash
// (error or panic) is restarted by the supervisor with the event that
// failed tried again.
type loop struct {
	name    string
	feed    Feed
	durable DurableFeed // nil unless the loop's position is acknowledged
	react   func(ctx context.Context, ev *event.StoredEvent) error
	ends    func(err error) (final bool, cause error)

	ctx    context.Context // the loop's own lifetime
	cancel context.CancelFunc

	pending   []*event.StoredEvent // owned by Serve: delivered, not yet handled
	processed atomic.Uint64

	endOnce sync.Once
	err     error // written once before donec closes
	donec   chan struct{}
}

func (l *loop) Name() string          { return l.name }
func (l *loop) Position() uint64      { return l.processed.Load() }
func (l *loop) Done() <-chan struct{} { return l.donec }

func (l *loop) Err() error {
	select {
	case <-l.donec:
		return l.err
	default:
		return nil
	}
}

func (l *loop) Stop(ctx context.Context) error {
	l.cancel()
	select {
	case <-l.donec:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fail ends the loop for good with err: its supervisor gave up on it.
func (l *loop) fail(err error) { l.end(err) }

func (l *loop) end(err error) {
	l.endOnce.Do(func() {
		if l.durable != nil {
			// Keep what was handled; the store still runs while its loops
			// stop (it stops them first).
			_ = l.durable.Ack(context.WithoutCancel(l.ctx), l.processed.Load())
		}
		l.feed.Close()
		l.err = err
		l.cancel()
		close(l.donec)
	})
}

func (l *loop) ended() bool {
	select {
	case <-l.donec:
		return true
	default:
		return false
	}
}

// Serve runs the loop until it ends or fails.
func (l *loop) Serve(sctx context.Context) error {
	if l.ctx.Err() != nil || sctx.Err() != nil {
		l.end(nil)
		return nil
	}
	ctx, cancel := context.WithCancel(sctx)
	defer cancel()
	stop := context.AfterFunc(l.ctx, cancel)
	defer stop()
	for {
		if len(l.pending) == 0 {
			evs, err := l.feed.NextBatch(ctx, readAhead)
			if err != nil {
				return l.stopped(ctx, err)
			}
			l.pending = evs
		}
		for len(l.pending) > 0 {
			ev := l.pending[0]
			if err := l.react(ctx, ev); err != nil {
				if ctx.Err() != nil {
					l.end(nil)
					return nil
				}
				return err
			}
			l.processed.Store(ev.Global)
			l.pending[0] = nil
			l.pending = l.pending[1:]
		}
		if l.durable != nil {
			// Handled what was read: acknowledge the run.
			if err := l.durable.Ack(ctx, l.processed.Load()); err != nil {
				return l.stopped(ctx, err)
			}
		}
	}
}

// stopped decides what a cursor or ack error means: a deliberate end, the
// store's end, or a failure to restart from.
func (l *loop) stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		l.end(nil)
		return nil
	}
	if final, cause := l.ends(err); final {
		l.end(cause)
		return nil
	}
	return err
}
