package supervisor

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Every test must leave no goroutine behind: the supervisor promises that
// nothing it starts outlives Stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// recv receives from c. The watchdog turns a lost wake-up into a clear
// failure instead of a hung test binary; it is never what the test waits on
// when things work.
func recv[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// fakeClock is the injected clock for Bounded windows.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type restartEvent struct {
	service string
	attempt int
	cause   error
}

type escalation struct {
	service string
	cause   error
}

// hooks records what the supervisor reports. The channels are buffered well
// beyond what any test provokes, so a hook never blocks the supervisor.
type hooks struct {
	restarts    chan restartEvent
	escalations chan escalation
}

func newHooks() *hooks {
	return &hooks{
		restarts:    make(chan restartEvent, 64),
		escalations: make(chan escalation, 64),
	}
}

// options wires h and clock (nil for the real clock) into quiet Options.
func (h *hooks) options(clock *fakeClock) Options {
	opts := Options{
		Logger: slog.New(slog.DiscardHandler),
		OnRestart: func(service string, attempt int, cause error) {
			h.restarts <- restartEvent{service, attempt, cause}
		},
		OnEscalate: func(service string, cause error) {
			h.escalations <- escalation{service, cause}
		},
	}
	if clock != nil {
		opts.Now = clock.Now
	}
	return opts
}

// step is what one run of a scripted service does once the test releases it.
type step func(ctx context.Context) error

func fail(err error) step  { return func(context.Context) error { return err } }
func panicWith(v any) step { return func(context.Context) error { panic(v) } }
func finish() step         { return func(context.Context) error { return nil } }

// scripted is a service whose runs the test drives one at a time: each run
// announces itself on startc, then performs the next step from stepc, or
// returns when its context is cancelled.
type scripted struct {
	runs   atomic.Int32
	startc chan struct{}
	stepc  chan step
}

func newScripted() *scripted {
	return &scripted{startc: make(chan struct{}), stepc: make(chan step)}
}

func (s *scripted) Serve(ctx context.Context) error {
	s.runs.Add(1)
	select {
	case s.startc <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case st := <-s.stepc:
		return st(ctx)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// started waits for the next run to begin.
func (s *scripted) started(t *testing.T) {
	t.Helper()
	recv(t, s.startc, "service run to start")
}

// do hands the current run its step.
func (s *scripted) do(t *testing.T, st step) {
	t.Helper()
	select {
	case s.stepc <- st:
	case <-time.After(10 * time.Second):
		t.Fatal("timed out handing a step to the service")
	}
}

// stop stops sup and checks that it stopped cleanly.
func stop(t *testing.T, sup *Supervisor) {
	t.Helper()
	if err := sup.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

// noneIn checks that nothing more arrived on c. Only meaningful after Stop,
// when every goroutine that could send has been joined.
func noneIn[T any](t *testing.T, c <-chan T, what string) {
	t.Helper()
	select {
	case v := <-c:
		t.Fatalf("unexpected %s: %+v", what, v)
	default:
	}
}
