package projector_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/projector"
	"github.com/batpak-go/batpak/supervisor"
)

// testCtx bounds a test that waits: it fails instead of hanging. It is a
// safety net, not a timing assertion.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestWatchConvergesWithATinyBuffer(t *testing.T) {
	ctx := testCtx(t)
	log := newMemLog()
	sub := log.subscribe(event.Region{Entity: "a"}, 1)
	w, err := projector.NewWatch[ledger](log, projector.Entity("a"), sub, projector.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if u, err := w.Next(ctx); err != nil || u.State.Balance != 0 {
		t.Fatalf("first state %+v, %v", u, err)
	}

	// Nobody receives while 500 events commit: the one-slot buffer keeps
	// one notification and drops the other 499.
	for range 500 {
		log.append("a", kDeposit, amountBytes(1))
	}
	if d := sub.drops(); d != 499 {
		t.Fatalf("%d notifications dropped, want 499", d)
	}
	u, err := w.Next(ctx)
	if err != nil || u.State.Balance != 500 || u.Watermark != 500 {
		t.Fatalf("after 499 dropped notifications: %+v, %v; want balance 500 at watermark 500", u, err)
	}

	// And while a producer runs concurrently.
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 1000 {
			log.append("a", kDeposit, amountBytes(1))
			if i%7 == 0 {
				log.append("b", kDeposit, amountBytes(1))
			}
		}
	})
	for u.State.Balance < 1500 {
		prev := u.Watermark
		if u, err = w.Next(ctx); err != nil {
			t.Fatal(err)
		}
		if u.Watermark <= prev {
			t.Fatalf("watermark went from %d to %d", prev, u.Watermark)
		}
	}
	wg.Wait()
	if u.State.Balance != 1500 || u.State.Ops != 1500 {
		t.Fatalf("converged to %+v, want 1500 deposits", u.State)
	}
}

func TestWatchSkipsUnchangedStates(t *testing.T) {
	ctx := testCtx(t)
	log := newMemLog()
	w, err := projector.NewWatch[ledger](log, projector.Entity("a"), log.subscribe(event.AllEvents(), 16), projector.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Next(ctx)
	log.append("a", kNoise, nil)
	log.append("b", kDeposit, amountBytes(1))
	log.append("a", kDeposit, amountBytes(3))
	u, err := w.Next(ctx)
	if err != nil || u.State.Balance != 3 || u.State.Ops != 1 || u.Watermark != 3 {
		t.Fatalf("%+v, %v: want the one deposit at watermark 3", u, err)
	}
}

func TestWatchStatesShareNoMemory(t *testing.T) {
	ctx := testCtx(t)
	log := newMemLog()
	log.append("a", kDeposit, amountBytes(1))
	w, err := projector.NewWatch[ledger](log, projector.Entity("a"), log.subscribe(event.AllEvents(), 4), projector.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	first, _ := w.Next(ctx)
	first.State.Last[0] = 99 // the caller owns what it got
	log.append("a", kDeposit, amountBytes(2))
	second, _ := w.Next(ctx)
	if second.State.Last[0] != 1 || second.State.Balance != 3 {
		t.Fatalf("the watch's state was changed through a handed-out copy: %+v", second.State)
	}
}

func TestWatchCloseEndsNext(t *testing.T) {
	ctx := testCtx(t)
	log := newMemLog()
	w, err := projector.NewWatch[ledger](log, projector.Entity("a"), log.subscribe(event.AllEvents(), 1), projector.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.Next(ctx)
	errc := make(chan error, 1)
	go func() {
		_, err := w.Next(ctx)
		errc <- err
	}()
	w.Close()
	if err := <-errc; !errors.Is(err, projector.ErrStopped) {
		t.Fatalf("Next after Close: %v, want ErrStopped", err)
	}
}

func newHost(t *testing.T, log *memLog, opts projector.HostOptions) *projector.Projector {
	t.Helper()
	p, err := projector.New(log, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestLiveProjectionFollowsTheLog(t *testing.T) {
	ctx := testCtx(t)
	log := newMemLog()
	var all []testEvent
	for i := range 20 {
		e := testEvent{entity: "account:1", kind: kDeposit, amount: int64(i)}
		log.append(e.entity, e.kind, amountBytes(e.amount))
		all = append(all, e)
	}
	p := newHost(t, log, projector.HostOptions{})
	l, err := projector.Register[ledger](p, "", projector.Entity("account:1"))
	if err != nil {
		t.Fatal(err)
	}
	var last uint64
	for i := range 300 {
		e := testEvent{entity: "account:1", kind: []event.EventKind{kDeposit, kWithdraw, kNoise}[i%3], amount: int64(i)}
		last = log.append(e.entity, e.kind, amountBytes(e.amount))
		all = append(all, e)
	}
	if err := p.WaitApplied(ctx, "ledger", last); err != nil {
		t.Fatal(err)
	}
	u, err := l.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := foldLedger(all, "account:1"); !sameLedger(u.State, want) {
		t.Fatalf("live state %+v, fold %+v", u.State, want)
	}
}

func TestWaitAppliedReturnsForEventsOutsideTheSubject(t *testing.T) {
	ctx := testCtx(t)
	log := newMemLog()
	p := newHost(t, log, projector.HostOptions{})
	if _, err := projector.Register[ledger](p, "", projector.Entity("account:1")); err != nil {
		t.Fatal(err)
	}
	log.append("account:1", kDeposit, amountBytes(1))
	pos := log.append("account:2", kDeposit, amountBytes(1))
	log.append("account:1", kNoise, nil)
	if err := p.WaitApplied(ctx, "ledger", pos); err != nil {
		t.Fatal(err)
	}
}

func TestWaitAppliedWaitsForAFuturePosition(t *testing.T) {
	ctx := testCtx(t)
	log := newMemLog()
	p := newHost(t, log, projector.HostOptions{})
	l, err := projector.Register[ledger](p, "", projector.Entity("a"))
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- p.WaitApplied(ctx, "ledger", 3) }()
	for range 3 {
		log.append("a", kDeposit, amountBytes(2))
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if err := l.Read(ctx, func(s *ledger, mark uint64) {
		if s.Balance != 6 || mark < 3 {
			t.Errorf("after WaitApplied(3): balance %d at %d", s.Balance, mark)
		}
	}); err != nil {
		t.Fatal(err)
	}
}

func TestWaitAppliedUnknownProjection(t *testing.T) {
	p := newHost(t, newMemLog(), projector.HostOptions{})
	if err := p.WaitApplied(testCtx(t), "nope", 1); !errors.Is(err, projector.ErrUnknownProjection) {
		t.Fatalf("err = %v", err)
	}
}

func TestRegisterRejectsDuplicateNames(t *testing.T) {
	p := newHost(t, newMemLog(), projector.HostOptions{})
	if _, err := projector.Register[ledger](p, "", projector.Entity("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := projector.Register[ledger](p, "", projector.Entity("b")); !errors.Is(err, projector.ErrDuplicateProjection) {
		t.Fatalf("err = %v", err)
	}
	if _, err := projector.Register[ledger](p, "ledger-b", projector.Entity("b")); err != nil {
		t.Fatal(err)
	}
}

// bombArmed makes the next fragile.Apply that sees a "bomb" event panic.
var bombArmed atomic.Bool

// fragile is a ledger whose Apply panics on a bomb event while armed.
type fragile struct{ ledger }

func (*fragile) Projection() projector.Spec {
	return projector.Spec{Name: "fragile", Version: 1, Kinds: []event.EventKind{kDeposit, kWithdraw}, Incremental: true}
}

func (f *fragile) Apply(ev *event.StoredEvent) error {
	if int64FromPayload(ev) == 666 && bombArmed.CompareAndSwap(true, false) {
		panic("boom")
	}
	return f.ledger.Apply(ev)
}

func int64FromPayload(ev *event.StoredEvent) int64 {
	if len(ev.Payload) != 8 {
		return 0
	}
	return int64(ev.Payload[0]) | int64(ev.Payload[1])<<8
}

func TestProjectorRestartRebuildsIdenticalState(t *testing.T) {
	ctx := testCtx(t)
	log := newMemLog()
	p := newHost(t, log, projector.HostOptions{Logger: quietLogger()})
	l, err := projector.Register[fragile](p, "", projector.Over(event.ForEntity("account:*")))
	if err != nil {
		t.Fatal(err)
	}
	// Let the first build finish, so the bomb goes off while following.
	if err := l.WaitApplied(ctx, 0); err != nil {
		t.Fatal(err)
	}
	bombArmed.Store(true)
	var all []testEvent
	var last uint64
	for i := range 200 {
		e := testEvent{entity: []string{"account:1", "account:2"}[i%2], kind: kDeposit, amount: int64(i)}
		if i == 120 {
			e.amount = 666
		}
		last = log.append(e.entity, e.kind, amountBytes(e.amount))
		all = append(all, e)
	}
	if err := p.WaitApplied(ctx, "fragile", last); err != nil {
		t.Fatal(err)
	}
	if bombArmed.Load() {
		t.Fatal("the bomb never went off")
	}
	u, err := l.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := foldLedger(all, "account:1")
	w2 := foldLedger(all, "account:2")
	want.Balance += w2.Balance
	want.Ops += w2.Ops
	if u.State.Balance != want.Balance || u.State.Ops != want.Ops {
		t.Fatalf("after the restart: %+v, want balance %d over %d events", u.State, want.Balance, want.Ops)
	}
	// A crash-free projection of the same log agrees exactly.
	ref, err := projector.Project[fragile](ctx, log, projector.Over(event.ForEntity("account:*")), projector.Consistent, projector.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !sameLedger(u.State.ledger, ref.State.ledger) {
		t.Fatalf("rebuilt %+v, crash-free %+v", u.State, ref.State)
	}
	if r, b := p.Restarts("fragile"), l.Builds(); r != 1 || b != 2 {
		t.Fatalf("%d restarts and %d builds, want 1 and 2", r, b)
	}
}

// doomed panics on every deposit of 13.
type doomed struct{ ledger }

func (*doomed) Projection() projector.Spec {
	return projector.Spec{Name: "doomed", Version: 1, Kinds: []event.EventKind{kDeposit}, Incremental: true}
}

func (d *doomed) Apply(ev *event.StoredEvent) error {
	if int64FromPayload(ev) == 13 {
		panic("unlucky")
	}
	return d.ledger.Apply(ev)
}

func TestProjectorGivesUpPastTheRestartBudget(t *testing.T) {
	ctx := testCtx(t)
	log := newMemLog()
	p := newHost(t, log, projector.HostOptions{Logger: quietLogger(), Policy: supervisor.Bounded{MaxRestarts: 2}})
	l, err := projector.Register[doomed](p, "", projector.Entity("a"))
	if err != nil {
		t.Fatal(err)
	}
	pos := log.append("a", kDeposit, amountBytes(13))
	if err := p.WaitApplied(ctx, "doomed", pos); !errors.Is(err, projector.ErrStopped) {
		t.Fatalf("WaitApplied = %v, want ErrStopped", err)
	}
	<-l.Done()
	var pe *supervisor.PanicError
	if !errors.As(l.Err(), &pe) {
		t.Fatalf("Err = %v, want the panic as the cause", l.Err())
	}
	if _, err := l.Snapshot(ctx); !errors.Is(err, projector.ErrStopped) {
		t.Fatalf("Snapshot = %v", err)
	}
	if r := p.Restarts("doomed"); r != 2 {
		t.Fatalf("%d restarts, want 2", r)
	}
}

func TestProjectionStopsWhenTheStoreStops(t *testing.T) {
	ctx := testCtx(t)
	log := newMemLog()
	p := newHost(t, log, projector.HostOptions{Logger: quietLogger()})
	l, err := projector.Register[ledger](p, "", projector.Entity("a"))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.WaitApplied(ctx, 0); err != nil {
		t.Fatal(err)
	}
	log.close()
	<-l.Done()
	if !errors.Is(l.Err(), errFakeClosed) || p.Restarts("ledger") != 0 {
		t.Fatalf("Err = %v after %d restarts; want the store's error and no restart", l.Err(), p.Restarts("ledger"))
	}
}

func TestProjectorCloseStopsEveryProjection(t *testing.T) {
	ctx := testCtx(t)
	log := newMemLog()
	p, err := projector.New(log, projector.HostOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := projector.Register[ledger](p, "", projector.Entity("a"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p.Close()
	if err := p.WaitApplied(ctx, "ledger", 0); !errors.Is(err, projector.ErrStopped) {
		t.Fatalf("WaitApplied after Close = %v", err)
	}
	if err := l.Read(ctx, func(*ledger, uint64) {}); !errors.Is(err, projector.ErrStopped) {
		t.Fatalf("Read after Close = %v", err)
	}
	if _, err := projector.Register[tally](p, "", projector.Entity("a")); !errors.Is(err, projector.ErrStopped) {
		t.Fatalf("Register after Close = %v", err)
	}
}
