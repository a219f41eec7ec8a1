package supervisor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Service is a long-running unit of work, typically an actor's run loop.
//
// Serve runs until ctx is cancelled or its work is done. Returning nil means
// done (not restarted); returning an error, or panicking, is a failure
// handled by the service's Policy; returning an error wrapping
// ErrDoNotRestart ends the service without restart or escalation. Once ctx is
// cancelled by Stop, whatever Serve returns is not a failure. Serve must
// return promptly after ctx is cancelled: Stop waits for it.
type Service interface {
	Serve(ctx context.Context) error
}

// ServiceFunc adapts a function to Service.
type ServiceFunc func(ctx context.Context) error

// Serve calls f(ctx).
func (f ServiceFunc) Serve(ctx context.Context) error { return f(ctx) }

// Quiescer is implemented by services that accept work. Stop calls Quiesce on
// every service, in Add order, before it cancels any, so that every intake is
// closed before anything drains. Quiesce is called exactly once, whether or
// not the service is running at that moment (even if it never started or has
// already ended), possibly concurrently with Serve. It must not block: it
// should close intake and return, leaving the draining to Serve.
type Quiescer interface {
	Quiesce()
}

// Options configures a Supervisor. The zero value is usable.
//
// The hooks run on the supervisor's goroutine for the failed service,
// serialised with each other, so a hook needs no locking of its own. A hook
// delays that service's restart, and must not call Stop: Stop waits for the
// goroutine the hook runs on. To shut down on escalation, signal a goroutine
// that calls Stop.
type Options struct {
	// Logger receives one record per restart, escalation and deliberate end.
	// nil means slog.Default().
	Logger *slog.Logger

	// Now is the clock for Bounded windows. nil means time.Now.
	Now func() time.Time

	// OnRestart is called before a failed service is run again. attempt is
	// the service's restart count including this one (1 for the first).
	OnRestart func(service string, attempt int, cause error)

	// OnEscalate is called once for a service whose failure its policy does
	// not allow to restart (Never, or a spent budget); the service then stays
	// down while the others run on. It is the place to fail-stop whatever
	// depends on the service.
	OnEscalate func(service string, cause error)
}

// Supervisor runs services, restarts them per policy, escalates failures it
// may not restart, and stops them in order. Its methods are safe for
// concurrent use.
type Supervisor struct {
	logger     *slog.Logger
	now        func() time.Time
	onRestart  func(string, int, error)
	onEscalate func(string, error)

	hookMu sync.Mutex     // serialises calls to onRestart and onEscalate
	wg     sync.WaitGroup // every goroutine the supervisor started; see launchLocked
	donec  chan struct{}  // closed by finishLocked when the supervisor has stopped

	mu       sync.Mutex
	state    state               // guarded by mu
	services []*service          // guarded by mu; Add order; frozen once stopping
	byName   map[string]*service // guarded by mu
	live     int                 // guarded by mu; run goroutines not yet exited
	drained  bool                // guarded by mu; Stop has cancelled every service
}

type state int

const (
	stateNew      state = iota // accepting Add; nothing running
	stateRunning               // Start has run; Add launches at once
	stateStopping              // Stop has begun; Add and Start refuse
	stateStopped               // every run goroutine has exited; donec is closed
)

// service is one added Service and its bookkeeping.
type service struct {
	name   string
	svc    Service
	budget *budget // owned by the run goroutine once launched

	restarts atomic.Int64 // restarts granted so far; written by the run goroutine

	// Set under Supervisor.mu when launched, never changed afterwards, and
	// read without the lock only once the supervisor is stopping (no launch
	// can happen then).
	launched bool
	cancel   context.CancelCauseFunc
	donec    chan struct{} // closed when the run goroutine is about to exit
}

// New returns a supervisor with no services. It starts nothing.
func New(opts Options) *Supervisor {
	s := &Supervisor{
		logger:     opts.Logger,
		now:        opts.Now,
		onRestart:  opts.OnRestart,
		onEscalate: opts.OnEscalate,
		donec:      make(chan struct{}),
		byName:     make(map[string]*service),
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Add registers svc under name with restart policy p. Before Start it is
// queued; after Start it is launched at once. Services are launched in Add
// order and stopped in reverse Add order. Add returns ErrStopped once Stop
// has begun and ErrDuplicateName if name is taken.
func (s *Supervisor) Add(name string, svc Service, p Policy) error {
	if svc == nil {
		return errors.New("supervisor: Add with nil Service")
	}
	if p == nil {
		return errors.New("supervisor: Add with nil Policy")
	}
	b, err := p.newBudget()
	if err != nil {
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state >= stateStopping {
		return ErrStopped
	}
	if _, dup := s.byName[name]; dup {
		return fmt.Errorf("%w: %q", ErrDuplicateName, name)
	}
	e := &service{name: name, svc: svc, budget: b, donec: make(chan struct{})}
	s.services = append(s.services, e)
	s.byName[name] = e
	if s.state == stateRunning {
		s.launchLocked(e)
	}
	return nil
}

// Start launches every service added so far, in Add order, each in its own
// goroutine. It does not wait for them to be ready. It returns
// ErrAlreadyStarted if called twice and ErrStopped once Stop has begun.
func (s *Supervisor) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state {
	case stateRunning:
		return ErrAlreadyStarted
	case stateStopping, stateStopped:
		return ErrStopped
	}
	s.state = stateRunning
	for _, e := range s.services {
		s.launchLocked(e)
	}
	return nil
}

// Restarts returns how many times the named service has been restarted; 0 for
// an unknown name.
func (s *Supervisor) Restarts(name string) int {
	s.mu.Lock()
	e := s.byName[name]
	s.mu.Unlock()
	if e == nil {
		return 0
	}
	return int(e.restarts.Load())
}

// Done returns a channel closed when the supervisor has stopped: Stop has
// cancelled every service and every goroutine it started has returned from
// its service.
func (s *Supervisor) Done() <-chan struct{} { return s.donec }

// Stop shuts the supervisor down in two phases and waits for it, bounded by
// ctx. It is idempotent and safe to call concurrently; the first call does
// the work and the others wait for it.
//
// Phase 1 calls Quiesce, in Add order, on every service that implements
// Quiescer. Phase 2 goes through the services in reverse Add order,
// cancelling each one's context (with cause ErrStopped) and waiting for its
// Serve to return before cancelling the next, so a service stops only after
// everything that was added after it, and may depend on it, has stopped.
// A service that fails before its own turn comes is still restarted per its
// policy, since the services stopping ahead of it may need it to drain.
//
// If ctx ends during phase 2, Stop gives up on the order: it cancels every
// service not yet cancelled and returns ctx.Err() at once. Go cannot kill a
// goroutine, so a service that ignores cancellation keeps its goroutine until
// its Serve returns; the supervisor starts nothing more, and Done is closed
// when the last such Serve returns. Call Stop again to wait for that: it
// returns nil once every goroutine has been joined.
//
// A Quiesce that panics does not stop the shutdown: the panic is recovered
// and returned, as a *PanicError joined into the error, after phase 2.
func (s *Supervisor) Stop(ctx context.Context) error {
	s.mu.Lock()
	if s.state >= stateStopping {
		s.mu.Unlock()
		return s.await(ctx)
	}
	s.state = stateStopping
	services := slices.Clone(s.services)
	s.mu.Unlock()

	qerr := s.quiesceAll(services)
	err := s.cancelInReverse(ctx, services)

	s.mu.Lock()
	s.drained = true
	s.finishLocked()
	s.mu.Unlock()

	if err != nil {
		if qerr != nil {
			return errors.Join(qerr, err)
		}
		return err // ctx.Err() itself, so == comparisons work
	}
	s.wg.Wait()
	return qerr
}

// await is Stop for the callers that did not begin it.
func (s *Supervisor) await(ctx context.Context) error {
	select {
	case <-s.donec:
		// Every run goroutine has left its service; this waits out the last
		// few instructions of each so the join is complete.
		s.wg.Wait()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// quiesceAll is phase 1.
func (s *Supervisor) quiesceAll(services []*service) error {
	var errs []error
	for _, e := range services {
		q, ok := e.svc.(Quiescer)
		if !ok {
			continue
		}
		if err := quiesce(e.name, q); err != nil {
			s.logger.Error("supervisor: quiesce panicked", "service", e.name, "err", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func quiesce(name string, q Quiescer) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = newPanicError(name, v)
		}
	}()
	q.Quiesce()
	return nil
}

// cancelInReverse is phase 2.
func (s *Supervisor) cancelInReverse(ctx context.Context, services []*service) error {
	for i := len(services) - 1; i >= 0; i-- {
		e := services[i]
		if !e.launched {
			continue
		}
		e.cancel(ErrStopped)
		if err := waitFor(ctx, e.donec); err != nil {
			for _, rest := range services[:i] {
				if rest.launched {
					rest.cancel(ErrStopped)
				}
			}
			s.logger.Warn("supervisor: stop deadline passed; cancelled the rest out of order",
				"waiting_for", e.name, "err", err)
			return err
		}
	}
	return nil
}

// waitFor waits for c to close, bounded by ctx. When both are ready it
// prefers c, so an already-expired ctx does not hide a service that has in
// fact returned.
func waitFor(ctx context.Context, c <-chan struct{}) error {
	select {
	case <-c:
		return nil
	case <-ctx.Done():
		select {
		case <-c:
			return nil
		default:
			return ctx.Err()
		}
	}
}

// finishLocked closes donec once Stop has cancelled everything and the last
// run goroutine has left its service. Whichever of the two happens last calls
// it to effect, so no extra goroutine is needed to watch for the end, even
// when Stop returned early on its ctx.
func (s *Supervisor) finishLocked() {
	if s.state == stateStopping && s.drained && s.live == 0 {
		s.state = stateStopped
		close(s.donec)
	}
}
