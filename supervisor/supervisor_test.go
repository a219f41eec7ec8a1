package supervisor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/pprof"
	"testing"
	"time"
)

func TestRestartsPanickingServiceAndReportsPanicErrorWithStack(t *testing.T) {
	h := newHooks()
	sup := New(h.options(nil))
	svc := newScripted()
	if err := sup.Add("panicky", svc, Bounded{MaxRestarts: 5, Within: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if err := sup.Start(); err != nil {
		t.Fatal(err)
	}

	svc.started(t)
	svc.do(t, panicWith("boom"))
	r := recv(t, h.restarts, "restart after panic")
	var pe *PanicError
	if !errors.As(r.cause, &pe) {
		t.Fatalf("restart cause is %T (%v), want *PanicError", r.cause, r.cause)
	}
	if r.service != "panicky" || r.attempt != 1 || pe.Service != "panicky" || pe.Value != "boom" {
		t.Fatalf("got restart %+v with panic %+v", r, pe)
	}
	// The stack is the panicking goroutine's, so it names the code that
	// panicked, not just the recovery.
	if !bytes.Contains(pe.Stack, []byte("panicWith")) {
		t.Fatalf("stack does not show the panicking function:\n%s", pe.Stack)
	}

	// A panic with an error value stays visible to errors.Is.
	svc.started(t)
	svc.do(t, panicWith(io.ErrUnexpectedEOF))
	r = recv(t, h.restarts, "restart after second panic")
	if r.attempt != 2 || !errors.Is(r.cause, io.ErrUnexpectedEOF) {
		t.Fatalf("second restart %+v: want attempt 2 wrapping io.ErrUnexpectedEOF", r)
	}

	svc.started(t) // the service is running again
	if got := sup.Restarts("panicky"); got != 2 {
		t.Fatalf("Restarts = %d, want 2", got)
	}
	stop(t, sup)
	noneIn(t, h.escalations, "escalation")
}

func TestBoundedBudgetExhaustedEscalatesOnceAndStaysDown(t *testing.T) {
	h := newHooks()
	clock := newFakeClock() // never advanced: every failure is in one window
	sup := New(h.options(clock))
	svc := newScripted()
	if err := sup.Add("flaky", svc, Bounded{MaxRestarts: 2, Within: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if err := sup.Start(); err != nil {
		t.Fatal(err)
	}

	for attempt := 1; attempt <= 2; attempt++ {
		svc.started(t)
		svc.do(t, fail(fmt.Errorf("failure %d", attempt)))
		if r := recv(t, h.restarts, "restart"); r.attempt != attempt {
			t.Fatalf("restart %+v, want attempt %d", r, attempt)
		}
	}
	svc.started(t)
	last := errors.New("failure 3")
	svc.do(t, fail(last))
	esc := recv(t, h.escalations, "escalation")
	if esc.service != "flaky" || !errors.Is(esc.cause, last) {
		t.Fatalf("escalation %+v, want flaky with the third failure", esc)
	}

	// Stop joins the service's goroutine, so after it nothing more can
	// happen: what was recorded is final.
	stop(t, sup)
	noneIn(t, h.escalations, "second escalation")
	noneIn(t, h.restarts, "restart after escalation")
	if got := svc.runs.Load(); got != 3 {
		t.Fatalf("service ran %d times, want 3 (no run after escalation)", got)
	}
	if got := sup.Restarts("flaky"); got != 2 {
		t.Fatalf("Restarts = %d, want 2", got)
	}
}

func TestBoundedWindowSlidesToAllowRestartsAgain(t *testing.T) {
	h := newHooks()
	clock := newFakeClock()
	sup := New(h.options(clock))
	svc := newScripted()
	const within = 10 * time.Second
	if err := sup.Add("sliding", svc, Bounded{MaxRestarts: 2, Within: within}); err != nil {
		t.Fatal(err)
	}
	if err := sup.Start(); err != nil {
		t.Fatal(err)
	}

	failAt := func(advance time.Duration) {
		t.Helper()
		svc.started(t)
		// The run loop reads the clock after Serve returns, which is after
		// the step was handed over, so the advance is always seen.
		clock.Advance(advance)
		svc.do(t, fail(errors.New("down")))
	}

	failAt(0) // t=0: restart 1
	recv(t, h.restarts, "restart 1")
	failAt(time.Second) // t=1s: restart 2; budget now full until t=10s
	recv(t, h.restarts, "restart 2")
	failAt(within - time.Second) // t=10s: the t=0 restart has left the window
	if r := recv(t, h.restarts, "restart 3"); r.attempt != 3 {
		t.Fatalf("restart %+v, want attempt 3", r)
	}
	failAt(0) // t=10s: window holds t=1s and t=10s, so this one escalates
	recv(t, h.escalations, "escalation")

	stop(t, sup)
	if got := sup.Restarts("sliding"); got != 3 {
		t.Fatalf("Restarts = %d, want 3", got)
	}
}

func TestOnceRestartsOnlyOnce(t *testing.T) {
	h := newHooks()
	sup := New(h.options(nil))
	svc := newScripted()
	if err := sup.Add("once", svc, Once()); err != nil {
		t.Fatal(err)
	}
	if err := sup.Start(); err != nil {
		t.Fatal(err)
	}

	svc.started(t)
	svc.do(t, fail(errors.New("first")))
	recv(t, h.restarts, "the one restart")
	svc.started(t)
	svc.do(t, panicWith("second"))
	esc := recv(t, h.escalations, "escalation")
	var pe *PanicError
	if !errors.As(esc.cause, &pe) {
		t.Fatalf("escalation cause %v, want the second run's panic", esc.cause)
	}

	stop(t, sup)
	if got := svc.runs.Load(); got != 2 {
		t.Fatalf("service ran %d times, want 2", got)
	}
	if got := sup.Restarts("once"); got != 1 {
		t.Fatalf("Restarts = %d, want 1", got)
	}
}

func TestNeverEscalatesTheFirstFailure(t *testing.T) {
	h := newHooks()
	sup := New(h.options(nil))
	svc := newScripted()
	other := newScripted()
	if err := sup.Add("never", svc, Never()); err != nil {
		t.Fatal(err)
	}
	if err := sup.Add("bystander", other, Never()); err != nil {
		t.Fatal(err)
	}
	if err := sup.Start(); err != nil {
		t.Fatal(err)
	}

	svc.started(t)
	other.started(t)
	boom := errors.New("boom")
	svc.do(t, fail(boom))
	if esc := recv(t, h.escalations, "escalation"); esc.service != "never" || !errors.Is(esc.cause, boom) {
		t.Fatalf("escalation %+v", esc)
	}
	// An escalation takes down only the failed service; the supervisor
	// keeps running the rest until Stop.
	select {
	case <-sup.Done():
		t.Fatal("supervisor stopped on its own after an escalation")
	default:
	}

	stop(t, sup)
	noneIn(t, h.restarts, "restart")
	if got := svc.runs.Load(); got != 1 {
		t.Fatalf("service ran %d times, want 1", got)
	}
}

func TestErrDoNotRestartEndsWithoutRestartOrEscalation(t *testing.T) {
	h := newHooks()
	sup := New(h.options(nil))
	svc := newScripted()
	if err := sup.Add("done", svc, Bounded{MaxRestarts: 100, Within: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if err := sup.Start(); err != nil {
		t.Fatal(err)
	}
	svc.started(t)
	svc.do(t, fail(fmt.Errorf("source exhausted: %w", ErrDoNotRestart)))

	stop(t, sup)
	noneIn(t, h.restarts, "restart")
	noneIn(t, h.escalations, "escalation")
	if got := svc.runs.Load(); got != 1 {
		t.Fatalf("service ran %d times, want 1", got)
	}
}

func TestNilReturnFinishesWithoutRestart(t *testing.T) {
	h := newHooks()
	sup := New(h.options(nil))
	svc := newScripted()
	if err := sup.Add("oneshot", svc, Bounded{MaxRestarts: 100, Within: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if err := sup.Start(); err != nil {
		t.Fatal(err)
	}
	svc.started(t)
	svc.do(t, finish())

	stop(t, sup)
	noneIn(t, h.restarts, "restart")
	noneIn(t, h.escalations, "escalation")
	if got := svc.runs.Load(); got != 1 {
		t.Fatalf("service ran %d times, want 1", got)
	}
}

func TestAddAfterStartLaunchesImmediately(t *testing.T) {
	sup := New(newHooks().options(nil))
	if err := sup.Start(); err != nil {
		t.Fatal(err)
	}
	svc := newScripted()
	if err := sup.Add("late", svc, Never()); err != nil {
		t.Fatal(err)
	}
	svc.started(t)
	stop(t, sup)
}

func TestServeRunsLabelledWithActorName(t *testing.T) {
	sup := New(newHooks().options(nil))
	labelc := make(chan string, 1)
	err := sup.Add("writer", ServiceFunc(func(ctx context.Context) error {
		v, _ := pprof.Label(ctx, "actor")
		labelc <- v
		return nil
	}), Never())
	if err != nil {
		t.Fatal(err)
	}
	if err := sup.Start(); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, labelc, "label"); got != "writer" {
		t.Fatalf("actor label = %q, want writer", got)
	}
	stop(t, sup)
}

func TestAddRejectsMisuse(t *testing.T) {
	sup := New(newHooks().options(nil))
	svc := ServiceFunc(func(context.Context) error { return nil })
	if err := sup.Add("a", svc, Never()); err != nil {
		t.Fatal(err)
	}
	if err := sup.Add("a", svc, Never()); !errors.Is(err, ErrDuplicateName) {
		t.Fatalf("duplicate name: %v, want ErrDuplicateName", err)
	}
	if err := sup.Add("b", nil, Never()); err == nil {
		t.Fatal("nil service accepted")
	}
	if err := sup.Add("c", svc, nil); err == nil {
		t.Fatal("nil policy accepted")
	}
	if err := sup.Add("d", svc, Bounded{MaxRestarts: -1}); err == nil {
		t.Fatal("negative MaxRestarts accepted")
	}
	if err := sup.Start(); err != nil {
		t.Fatal(err)
	}
	if err := sup.Start(); !errors.Is(err, ErrAlreadyStarted) {
		t.Fatalf("second Start: %v, want ErrAlreadyStarted", err)
	}
	stop(t, sup)
	if got := sup.Restarts("no such service"); got != 0 {
		t.Fatalf("Restarts of unknown = %d", got)
	}
}
