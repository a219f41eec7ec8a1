package projector

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/batpak-go/batpak/supervisor"
)

// Projector is the projection actor's host: it runs registered live
// projections, each as a service of its own supervisor (so one crashing
// projection restarts alone, rebuilt from the log), and answers
// WaitApplied by name.
type Projector struct {
	src    Source
	sup    *supervisor.Supervisor
	policy supervisor.Policy

	mu     sync.Mutex
	live   map[string]runner // guarded by mu
	closed bool              // guarded by mu
}

// runner is what the host needs of a Live[T], whatever T.
type runner interface {
	supervisor.Service
	WaitApplied(ctx context.Context, pos uint64) error
	Halt(cause error)
}

// HostOptions configures a Projector. The zero value is usable.
type HostOptions struct {
	// Logger receives restarts and escalations; nil means slog.Default().
	Logger *slog.Logger
	// Policy decides how often a crashed projection is rebuilt before it is
	// given up on (default Bounded{MaxRestarts: 5, Within: time.Minute}).
	Policy supervisor.Policy
}

const serviceprefix = "projector:"

// New starts a projector over src with no projections.
func New(src Source, opts HostOptions) (*Projector, error) {
	if opts.Policy == nil {
		opts.Policy = supervisor.Bounded{MaxRestarts: 5, Within: time.Minute}
	}
	p := &Projector{src: src, policy: opts.Policy, live: make(map[string]runner)}
	p.sup = supervisor.New(supervisor.Options{Logger: opts.Logger, OnEscalate: p.escalate})
	if err := p.sup.Start(); err != nil {
		return nil, err
	}
	return p, nil
}

// Register starts a live projection of sub called name ("" means the
// spec's name) and returns it. Names are unique within a projector
// (ErrDuplicateProjection).
func Register[T any, P EventSourced[T]](p *Projector, name string, sub Subject) (*Live[T], error) {
	l, err := NewLive[T, P](p.src, name, sub)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrStopped
	}
	if _, dup := p.live[l.name]; dup {
		return nil, fmt.Errorf("%w: %q", ErrDuplicateProjection, l.name)
	}
	if err := p.sup.Add(serviceprefix+l.name, l, p.policy); err != nil {
		return nil, err
	}
	p.live[l.name] = l
	return l, nil
}

// WaitApplied blocks until the named projection includes every event of
// its subject up to global sequence pos (a receipt's Global): read your
// writes. It returns ErrUnknownProjection for a name not registered, and an
// error wrapping ErrStopped once the projection has stopped for good.
func (p *Projector) WaitApplied(ctx context.Context, name string, pos uint64) error {
	p.mu.Lock()
	l, ok := p.live[name]
	p.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownProjection, name)
	}
	return l.WaitApplied(ctx, pos)
}

// Restarts is how many times the named projection has been restarted.
func (p *Projector) Restarts(name string) int { return p.sup.Restarts(serviceprefix + name) }

// escalate runs when the supervisor gives up on a projection.
func (p *Projector) escalate(service string, cause error) {
	p.mu.Lock()
	l := p.live[strings.TrimPrefix(service, serviceprefix)]
	p.mu.Unlock()
	if l != nil {
		l.Halt(fmt.Errorf("crashed past its restart budget: %w", cause))
	}
}

// Close stops every projection and joins its goroutine; afterwards reads
// and waits return ErrStopped. It is idempotent.
func (p *Projector) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	err := p.sup.Stop(context.Background())
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.live {
		l.Halt(nil)
	}
	return err
}
