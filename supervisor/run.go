package supervisor

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"runtime/pprof"
)

// launchLocked starts e's run goroutine. Called with s.mu held and the
// supervisor running, so that a launch can never race with Stop: once Stop
// has set stateStopping under the same lock, nothing more is launched, and
// wg.Add never runs concurrently with wg.Wait.
//
// This is the only place the supervisor starts a goroutine.
func (s *Supervisor) launchLocked(e *service) {
	ctx, cancel := context.WithCancelCause(context.Background())
	e.launched = true
	e.cancel = cancel
	s.live++
	s.wg.Go(func() {
		defer s.exited(e)
		// The label covers this goroutine and every goroutine Serve starts,
		// so CPU and goroutine profiles show which actor is which.
		pprof.Do(ctx, pprof.Labels("actor", e.name), func(ctx context.Context) {
			s.run(ctx, e)
		})
	})
}

// exited records that e's run goroutine has left its service for good.
func (s *Supervisor) exited(e *service) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.live--
	close(e.donec)
	s.finishLocked()
}

// run is e's supervision loop: run Serve, decide, and restart in place. The
// loop stays on one goroutine for the service's whole life, so its budget
// needs no lock and restarts are immediate, with no goroutine hand-off.
func (s *Supervisor) run(ctx context.Context, e *service) {
	for {
		err := serve(ctx, e.name, e.svc)
		v := decide(err, ctx.Err() != nil, e.budget, s.now())
		switch v {
		case verdictRestart:
			attempt := int(e.restarts.Add(1))
			s.logger.Warn("supervisor: restarting service",
				append(causeAttrs(e.name, err), slog.Int("attempt", attempt))...)
			if s.onRestart != nil {
				s.hookMu.Lock()
				s.onRestart(e.name, attempt, err)
				s.hookMu.Unlock()
			}
			continue
		case verdictEscalate:
			s.logger.Error("supervisor: policy allows no more restarts; escalating",
				append(causeAttrs(e.name, err), slog.Int("restarts", int(e.restarts.Load())))...)
			if s.onEscalate != nil {
				s.hookMu.Lock()
				s.onEscalate(e.name, err)
				s.hookMu.Unlock()
			}
		case verdictEnded:
			s.logger.Info("supervisor: service ended without restart", "service", e.name, "err", err)
		case verdictFinished:
			s.logger.Debug("supervisor: service finished", "service", e.name)
		case verdictStopped:
			// A panic is a bug even when it happens on the way out; do not
			// let the stop swallow it silently.
			if pe := (*PanicError)(nil); errors.As(err, &pe) {
				s.logger.Error("supervisor: service panicked while stopping", causeAttrs(e.name, err)...)
			}
		}
		return
	}
}

// serve runs one Serve, turning a panic into a *PanicError so that a
// panicking actor is a failure like any other instead of a crashed process.
func serve(ctx context.Context, name string, svc Service) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = newPanicError(name, v)
		}
	}()
	return svc.Serve(ctx)
}

// newPanicError must be called from the deferred recover so that the stack
// it captures is the panicking one.
func newPanicError(name string, v any) *PanicError {
	return &PanicError{Service: name, Value: v, Stack: debug.Stack()}
}

// causeAttrs are the log attributes for a failure: the stack is included for
// panics, since the panic value alone rarely locates the bug.
func causeAttrs(name string, err error) []any {
	attrs := []any{slog.String("service", name), slog.Any("err", err)}
	if pe := (*PanicError)(nil); errors.As(err, &pe) {
		attrs = append(attrs, slog.String("stack", string(pe.Stack)))
	}
	return attrs
}
