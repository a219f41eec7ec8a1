package react

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/supervisor"
)

// Loops runs one store's react loops, each a service of a supervisor of
// their own, so that a reactor that keeps failing ends its loop, not the
// store. The store stops them first when it closes (Stop).
type Loops struct {
	b      Backend
	sup    *supervisor.Supervisor
	policy supervisor.Policy
	closed error // the store's ErrClosed: Start's answer after Stop, and a deliberate end

	mu    sync.Mutex
	loops map[string]*loop // guarded by mu; by service name
	seq   int              // guarded by mu; numbers service names
}

// Options configure NewLoops.
type Options struct {
	Logger *slog.Logger      // the supervisor's (nil: slog.Default())
	Policy supervisor.Policy // the default restart policy (nil: supervisor.Never())
	// Closed is the store's "closed" error: a loop whose cursor returns it
	// ended deliberately (Err nil), and Start returns it after Stop.
	Closed error
}

// NewLoops returns the react-loop runner of the store b describes.
func NewLoops(b Backend, o Options) *Loops {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Policy == nil {
		o.Policy = supervisor.Never()
	}
	ls := &Loops{b: b, policy: o.Policy, closed: o.Closed, loops: make(map[string]*loop)}
	ls.sup = supervisor.New(supervisor.Options{Logger: o.Logger, OnEscalate: ls.escalate})
	_ = ls.sup.Start() // a fresh supervisor always starts
	return ls
}

// Start runs reactor over region's events under the supervisor, as
// batpak.EventStore's ReactLoop documents, and returns at once. By default
// the loop starts at the events that become visible after Start (see From
// and Durable).
func (ls *Loops) Start(ctx context.Context, region event.Region, reactor Reactor, opts ...Option) (Loop, error) {
	if reactor == nil {
		return nil, fmt.Errorf("%w: nil reactor", event.ErrInvalidOption)
	}
	c := config{policy: ls.policy}
	for _, o := range opts {
		o(&c)
	}
	if b, ok := c.policy.(supervisor.Bounded); ok && b.MaxRestarts < 0 {
		return nil, fmt.Errorf("%w: restart policy of %d restarts", event.ErrInvalidOption, b.MaxRestarts)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ls.mu.Lock()
	ls.seq++
	svc := fmt.Sprintf("react-%d", ls.seq)
	maps.DeleteFunc(ls.loops, func(_ string, l *loop) bool { return l.ended() }) // forget ended loops
	ls.mu.Unlock()

	l := &loop{name: svc, ends: ls.ends, donec: make(chan struct{})}
	l.react = func(ctx context.Context, ev *event.StoredEvent) error {
		items, err := reactor(ctx, ev)
		if err == nil && len(items) > 0 {
			_, err = ls.b.AppendBatch(ctx, event.Reactions(ev.Correlation, ev.ID, items))
		}
		return err
	}
	if c.durable != "" {
		d, err := ls.b.Durable(c.durable, region)
		if err != nil {
			return nil, err
		}
		l.name += ":" + c.durable
		l.feed, l.durable = d, d
		l.processed.Store(d.Acked())
	} else {
		from := c.from
		if !c.fromSet {
			from = ls.b.Log.Head()
		}
		f, err := ls.b.Log.Follow(region, from)
		if err != nil {
			return nil, err
		}
		l.feed = f
		l.processed.Store(from)
	}
	l.ctx, l.cancel = context.WithCancel(ctx)
	ls.mu.Lock()
	ls.loops[l.name] = l
	ls.mu.Unlock()
	if err := ls.sup.Add(l.name, l, c.policy); err != nil {
		ls.mu.Lock()
		delete(ls.loops, l.name)
		ls.mu.Unlock()
		l.fail(ls.closed)
		return nil, ls.closed
	}
	return l, nil
}

// ends says whether a cursor's error ends a loop for good, and with what:
// the store's close ends it deliberately (nil), its failure with the error.
func (ls *Loops) ends(err error) (bool, error) {
	if !ls.b.Log.Final(err) {
		return false, nil
	}
	if ls.closed != nil && errors.Is(err, ls.closed) {
		return true, nil
	}
	return true, err
}

// Stop stops every loop and waits for them.
func (ls *Loops) Stop() error { return ls.sup.Stop(context.Background()) }

// escalate ends a loop its restart policy gave up on.
func (ls *Loops) escalate(name string, cause error) {
	ls.mu.Lock()
	l := ls.loops[name]
	delete(ls.loops, name)
	ls.mu.Unlock()
	if l != nil {
		l.fail(cause)
	}
}
