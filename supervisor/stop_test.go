package supervisor

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorder collects lifecycle events from several goroutines in the order
// they happened.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(e string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// orderly is a Quiescer that runs until cancelled and records both events.
type orderly struct {
	name       string
	rec        *recorder
	quiesces   atomic.Int32
	runningc   chan struct{} // receives once per run, buffered
	wrongCause atomic.Value  // set if the stop context's cause is not ErrStopped
}

func newOrderly(name string, rec *recorder) *orderly {
	return &orderly{name: name, rec: rec, runningc: make(chan struct{}, 1)}
}

func (o *orderly) Quiesce() {
	o.quiesces.Add(1)
	o.rec.add("quiesce " + o.name)
}

func (o *orderly) Serve(ctx context.Context) error {
	o.runningc <- struct{}{}
	<-ctx.Done()
	if cause := context.Cause(ctx); cause != ErrStopped {
		o.wrongCause.Store(cause)
	}
	o.rec.add("stop " + o.name)
	return ctx.Err()
}

func TestStopQuiescesAllBeforeCancellingAnyAndStopsInReverseOrder(t *testing.T) {
	h := newHooks()
	sup := New(h.options(nil))
	rec := &recorder{}
	var all []*orderly
	for _, name := range []string{"fsync", "writer", "fanout"} {
		o := newOrderly(name, rec)
		all = append(all, o)
		if err := sup.Add(name, o, Never()); err != nil {
			t.Fatal(err)
		}
	}
	if err := sup.Start(); err != nil {
		t.Fatal(err)
	}
	for _, o := range all {
		recv(t, o.runningc, o.name+" running")
	}

	stop(t, sup)

	// Stop waits for each Serve to return before cancelling the next, so
	// the record's order is the shutdown order, not a scheduling accident.
	want := []string{
		"quiesce fsync", "quiesce writer", "quiesce fanout",
		"stop fanout", "stop writer", "stop fsync",
	}
	if got := rec.snapshot(); !slices.Equal(got, want) {
		t.Fatalf("shutdown order\n got %q\nwant %q", got, want)
	}
	for _, o := range all {
		if c := o.wrongCause.Load(); c != nil {
			t.Fatalf("%s saw cause %v, want ErrStopped", o.name, c)
		}
	}
	// Returning ctx.Err() on the way out is not a failure.
	noneIn(t, h.restarts, "restart")
	noneIn(t, h.escalations, "escalation")
}

func TestStopIsIdempotentAndSafeConcurrently(t *testing.T) {
	sup := New(newHooks().options(nil))
	rec := &recorder{}
	a, b := newOrderly("a", rec), newOrderly("b", rec)
	for _, o := range []*orderly{a, b} {
		if err := sup.Add(o.name, o, Never()); err != nil {
			t.Fatal(err)
		}
	}
	if err := sup.Start(); err != nil {
		t.Fatal(err)
	}
	recv(t, a.runningc, "a running")
	recv(t, b.runningc, "b running")

	const callers = 8
	var wg sync.WaitGroup
	gate := make(chan struct{})
	errc := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			<-gate
			errc <- sup.Stop(context.Background())
		})
	}
	close(gate)
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatalf("concurrent Stop: %v", err)
		}
	}

	recv(t, sup.Done(), "Done")
	if err := sup.Stop(context.Background()); err != nil {
		t.Fatalf("Stop after stopped: %v", err)
	}
	if qa, qb := a.quiesces.Load(), b.quiesces.Load(); qa != 1 || qb != 1 {
		t.Fatalf("Quiesce called %d and %d times, want once each", qa, qb)
	}
}

func TestAddAndStartAfterStopReturnErrStopped(t *testing.T) {
	sup := New(newHooks().options(nil))
	if err := sup.Start(); err != nil {
		t.Fatal(err)
	}
	stop(t, sup)
	svc := newScripted()
	if err := sup.Add("late", svc, Never()); !errors.Is(err, ErrStopped) {
		t.Fatalf("Add after Stop: %v, want ErrStopped", err)
	}
	if err := sup.Start(); !errors.Is(err, ErrStopped) {
		t.Fatalf("Start after Stop: %v, want ErrStopped", err)
	}
	if got := svc.runs.Load(); got != 0 {
		t.Fatalf("service added after Stop ran %d times", got)
	}
}

func TestStopBeforeStartQuiescesAndRunsNothing(t *testing.T) {
	sup := New(newHooks().options(nil))
	rec := &recorder{}
	o := newOrderly("idle", rec)
	if err := sup.Add("idle", o, Never()); err != nil {
		t.Fatal(err)
	}
	stop(t, sup)
	recv(t, sup.Done(), "Done")
	if err := sup.Start(); !errors.Is(err, ErrStopped) {
		t.Fatalf("Start after Stop: %v, want ErrStopped", err)
	}
	// Quiesce closes intake even of a service that never ran, so nobody
	// can block on its mailbox.
	if got, want := rec.snapshot(), []string{"quiesce idle"}; !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
}

func TestStopReturnsCtxErrWhenServiceIgnoresCancellation(t *testing.T) {
	sup := New(newHooks().options(nil))
	rec := &recorder{}
	early := newOrderly("early", rec) // added first, so stopped after stubborn
	release := make(chan struct{})
	stubbornRunning := make(chan struct{})
	stubborn := ServiceFunc(func(ctx context.Context) error {
		close(stubbornRunning)
		<-release // deliberately deaf to ctx
		return nil
	})
	if err := sup.Add("early", early, Never()); err != nil {
		t.Fatal(err)
	}
	if err := sup.Add("stubborn", stubborn, Never()); err != nil {
		t.Fatal(err)
	}
	if err := sup.Start(); err != nil {
		t.Fatal(err)
	}
	recv(t, early.runningc, "early running")
	recv(t, stubbornRunning, "stubborn running")

	// The outcome does not depend on timing: stubborn cannot return before
	// release is closed, so this deadline always expires first.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := sup.Stop(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Stop: %v, want context.DeadlineExceeded", err)
	}

	// Past the deadline, Stop abandons the order and cancels everything, so
	// the services that honour cancellation still stop.
	recv(t, sup.serviceDone(t, "early"), "early to be cancelled out of order")
	select {
	case <-sup.Done():
		t.Fatal("Done closed while stubborn is still running")
	default:
	}
	// Later Stops wait for the stragglers, still bounded by their ctx.
	expired, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	if err := sup.Stop(expired); err != context.Canceled {
		t.Fatalf("second Stop with a cancelled ctx: %v, want context.Canceled", err)
	}

	close(release)
	if err := sup.Stop(context.Background()); err != nil {
		t.Fatalf("Stop after the straggler returned: %v", err)
	}
	recv(t, sup.Done(), "Done")
}

// done exposes a service's run-goroutine exit to tests.
func (s *Supervisor) serviceDone(t *testing.T, name string) <-chan struct{} {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.byName[name]
	if e == nil {
		t.Fatalf("no service %q", name)
	}
	return e.donec
}

// panickyQuiescer panics in Quiesce, then behaves.
type panickyQuiescer struct{ *orderly }

func (p *panickyQuiescer) Quiesce() { panic("quiesce bug") }

func TestQuiescePanicIsReturnedAndShutdownCompletes(t *testing.T) {
	sup := New(newHooks().options(nil))
	rec := &recorder{}
	bad := &panickyQuiescer{newOrderly("bad", rec)}
	good := newOrderly("good", rec)
	if err := sup.Add("bad", bad, Never()); err != nil {
		t.Fatal(err)
	}
	if err := sup.Add("good", good, Never()); err != nil {
		t.Fatal(err)
	}
	if err := sup.Start(); err != nil {
		t.Fatal(err)
	}
	recv(t, bad.runningc, "bad running")
	recv(t, good.runningc, "good running")

	err := sup.Stop(context.Background())
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Service != "bad" || pe.Value != "quiesce bug" {
		t.Fatalf("Stop: %v, want the Quiesce panic of bad", err)
	}
	want := []string{"quiesce good", "stop good", "stop bad"}
	if got := rec.snapshot(); !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
	recv(t, sup.Done(), "Done")
}
