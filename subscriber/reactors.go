package subscriber

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sync"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/supervisor"
)

// Reactors runs a store's react loops, each a service of a supervisor of
// their own, so that a reactor that keeps failing ends its loop, not the
// store. The store stops them first when it closes (Stop), while its
// writer still takes their reactions.
type Reactors struct {
	hub    *Hub
	sup    *supervisor.Supervisor
	closed error // what Start returns once Stop has run (the store's ErrClosed)

	mu    sync.Mutex
	loops map[string]*Loop // guarded by mu; by service name
	seq   int              // guarded by mu; numbers service names
}

// NewReactors returns the react-loop runner of hub's store; closed is the
// error Start returns after Stop.
func NewReactors(hub *Hub, logger *slog.Logger, closed error) *Reactors {
	r := &Reactors{hub: hub, closed: closed, loops: make(map[string]*Loop)}
	r.sup = supervisor.New(supervisor.Options{Logger: logger, OnEscalate: r.escalate})
	_ = r.sup.Start() // a fresh supervisor always starts
	return r
}

// ReactSpec says what a react loop reads and does.
type ReactSpec struct {
	Region event.Region
	// From is the global sequence the loop starts after, unless Durable
	// names a durable cursor, which starts after its acknowledged position
	// and is acknowledged as the loop goes.
	From    uint64
	Durable string
	React   ReactFunc
	Policy  supervisor.Policy
}

// Start opens the loop's cursor and runs the loop under the supervisor
// until ctx ends, its Stop is called, the store closes or its restart
// policy gives up on it.
func (r *Reactors) Start(ctx context.Context, spec ReactSpec) (*Loop, error) {
	r.mu.Lock()
	r.seq++
	svc := fmt.Sprintf("react-%d", r.seq)
	// Forget loops that have ended.
	maps.DeleteFunc(r.loops, func(_ string, l *Loop) bool { return l.ended() })
	r.mu.Unlock()

	var loop *Loop
	if spec.Durable != "" {
		d, err := r.hub.OpenCursor(spec.Durable, spec.Region)
		if err != nil {
			return nil, err
		}
		svc += ":" + spec.Durable
		loop = NewDurableLoop(ctx, svc, d, spec.React)
	} else {
		c, err := r.hub.Cursor(spec.Region, spec.From)
		if err != nil {
			return nil, err
		}
		loop = NewLoop(ctx, svc, c, spec.React)
	}
	r.mu.Lock()
	r.loops[svc] = loop
	r.mu.Unlock()
	if err := r.sup.Add(svc, loop, spec.Policy); err != nil {
		r.mu.Lock()
		delete(r.loops, svc)
		r.mu.Unlock()
		loop.Fail(r.closed)
		return nil, r.closed
	}
	return loop, nil
}

// Stop stops every loop and waits for them.
func (r *Reactors) Stop() error { return r.sup.Stop(context.Background()) }

// escalate ends a loop its restart policy gave up on.
func (r *Reactors) escalate(name string, cause error) {
	r.mu.Lock()
	l := r.loops[name]
	delete(r.loops, name)
	r.mu.Unlock()
	if l != nil {
		l.Fail(cause)
	}
}

// ended reports whether the loop has ended for good.
func (l *Loop) ended() bool {
	select {
	case <-l.donec:
		return true
	default:
		return false
	}
}
