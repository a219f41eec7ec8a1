package subscriber

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/supervisor"
)

// hangGuard bounds a test that would otherwise hang on a lost wake-up; it
// is a deadline for failure, not a timing assertion.
func hangGuard(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(bg, time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func recvN(t testing.TB, ctx context.Context, l *Lossy, n int) []event.Notification {
	t.Helper()
	out := make([]event.Notification, 0, n)
	for len(out) < n {
		m, err := l.Recv(ctx)
		if err != nil {
			t.Fatalf("Recv after %d of %d: %v", len(out), n, err)
		}
		out = append(out, m)
	}
	return out
}

func TestPublishNeverBlocksAndAFullMailboxLosesNothing(t *testing.T) {
	th := newTestHub(t, 1)
	l, err := th.SubscribeLossy(event.AllEvents(), 10_000)
	if err != nil {
		t.Fatal(err)
	}
	// The actor is not running: one publication fits the mailbox, the
	// other 99 overflow. Publish must return every time.
	for range 100 {
		th.publish(10, "p:1", "room:1", kindA)
	}
	th.run(t)
	got := recvN(t, hangGuard(t), l, 1000)
	checkRun(t, "lossy", globals(got), 1, 1000)
	if l.Dropped() != 0 {
		t.Fatalf("dropped %d, want 0", l.Dropped())
	}
}

func TestAStalledSubscriberDoesNotHoldUpTheOthers(t *testing.T) {
	th := newTestHub(t, 4)
	stalled, _ := th.SubscribeLossy(event.AllEvents(), 8)
	live, _ := th.SubscribeLossy(event.AllEvents(), 16)
	stop := th.run(t)
	ctx := hangGuard(t)
	var got []event.Notification
	for range 200 {
		th.publish(5, "p:1", "room:1", kindA)
		got = append(got, recvN(t, ctx, live, 5)...)
	}
	stop() // the actor delivers everything before it returns
	checkRun(t, "live", globals(got), 1, 1000)
	if n := len(drain(stalled)); n != 8 || stalled.Dropped() != 992 {
		t.Fatalf("stalled: %d buffered, %d dropped; want 8, 992", n, stalled.Dropped())
	}
}

func TestFanoutCrashIsRestartedAndDeliversExactlyOnce(t *testing.T) {
	th := newTestHub(t, 8)
	l, _ := th.SubscribeLossy(event.AllEvents(), 100_000)
	var calls atomic.Int64
	th.fan.beforeDeliver = func() {
		if n := calls.Add(1); n == 5 || n == 9 {
			panic("injected fan-out crash")
		}
	}
	sup := supervisor.New(supervisor.Options{Logger: discard})
	if err := errors.Join(sup.Add("fanout", th.Fanout(), supervisor.Bounded{MaxRestarts: 5}), sup.Start()); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		th.publish(20, "p:1", "room:1", kindA)
	}
	got := recvN(t, hangGuard(t), l, 1000)
	if err := sup.Stop(bg); err != nil {
		t.Fatal(err)
	}
	th.closed.Store(true)
	close(th.donec)
	th.Close()
	checkRun(t, "lossy", globals(got), 1, 1000)
	if rest := drain(l); len(rest) != 0 {
		t.Fatalf("%d duplicates after the restart", len(rest))
	}
	if sup.Restarts("fanout") != 2 {
		t.Fatalf("restarts %d, want 2", sup.Restarts("fanout"))
	}
}

func TestSubscriptionSeesOnlyEventsAfterIt(t *testing.T) {
	th := newTestHub(t, 16)
	th.run(t)
	th.publish(3, "p:1", "room:1", kindA)
	l, _ := th.SubscribeLossy(event.AllEvents(), 10)
	th.publish(2, "p:1", "room:1", kindA)
	checkRun(t, "late", globals(recvN(t, hangGuard(t), l, 2)), 4, 2)
}

func TestFanoutSkipsGlobalSequencesTheWriterNeverUsed(t *testing.T) {
	th := newTestHub(t, 16)
	l, _ := th.SubscribeLossy(event.AllEvents(), 10)
	th.run(t)
	th.publish(2, "p:1", "room:1", kindA)
	th.log.skip(3)
	th.publish(2, "p:1", "room:1", kindA)
	gs := globals(recvN(t, hangGuard(t), l, 4))
	if gs[0] != 1 || gs[1] != 2 || gs[2] != 6 || gs[3] != 7 {
		t.Fatalf("globals %v, want [1 2 6 7]", gs)
	}
}

func TestWaitVisibleReturnsOnceThePositionIsPublished(t *testing.T) {
	th := newTestHub(t, 16)
	th.run(t)
	blocked := make(chan struct{}, 1)
	th.onWait = func() {
		select {
		case blocked <- struct{}{}:
		default:
		}
	}
	done := make(chan error, 1)
	go func() { done <- th.WaitVisible(hangGuard(t), 3) }()
	<-blocked
	th.publish(1, "p:1", "room:1", kindA)
	th.publish(2, "p:1", "room:1", kindA)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if err := th.WaitVisible(ctx, 4); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitVisible with a cancelled ctx: %v", err)
	}
	if err := th.WaitVisible(ctx, 3); err != nil {
		t.Fatalf("WaitVisible of a visible position with a cancelled ctx: %v", err)
	}
}
