package subscriber

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/supervisor"
)

// reactRig runs loops under a supervisor whose escalation fails the loop,
// as the store wires it.
type reactRig struct {
	sup   *supervisor.Supervisor
	mu    sync.Mutex
	loops map[string]*Loop
}

func newReactRig(t testing.TB) *reactRig {
	r := &reactRig{loops: make(map[string]*Loop)}
	r.sup = supervisor.New(supervisor.Options{Logger: discard, OnEscalate: func(name string, cause error) {
		r.mu.Lock()
		l := r.loops[name]
		r.mu.Unlock()
		l.Fail(cause)
	}})
	if err := r.sup.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.sup.Stop(bg) })
	return r
}

func (r *reactRig) add(t testing.TB, l *Loop, p supervisor.Policy) {
	r.mu.Lock()
	r.loops[l.Name()] = l
	r.mu.Unlock()
	if err := r.sup.Add(l.Name(), l, p); err != nil {
		t.Fatal(err)
	}
}

func TestReactLoopHandlesEveryEventOnceAndRetriesAfterAPanic(t *testing.T) {
	th := newTestHub(t, 16)
	th.run(t)
	rig := newReactRig(t)
	c, _ := th.Cursor(event.AllEvents(), 0)
	var (
		mu      sync.Mutex
		handled []uint64
		tries   = map[uint64]int{}
		all     = make(chan struct{})
	)
	l := NewLoop(bg, "r", c, func(ctx context.Context, ev *event.StoredEvent) error {
		mu.Lock()
		defer mu.Unlock()
		tries[ev.Global]++
		if ev.Global == 3 && tries[3] == 1 {
			panic("reactor bug")
		}
		if ev.Global == 5 && tries[5] == 1 {
			return errors.New("transient")
		}
		handled = append(handled, ev.Global)
		if len(handled) == 10 {
			close(all)
		}
		return nil
	})
	rig.add(t, l, supervisor.Bounded{MaxRestarts: 5})
	th.publish(10, "p:1", "room:1", kindA)
	<-all
	if err := l.Stop(hangGuard(t)); err != nil {
		t.Fatal(err)
	}
	if l.Err() != nil || l.Position() != 10 || rig.sup.Restarts("r") != 2 {
		t.Fatalf("Err %v, position %d, restarts %d; want nil, 10, 2", l.Err(), l.Position(), rig.sup.Restarts("r"))
	}
	checkRun(t, "handled", handled, 1, 10)
	if _, err := c.Next(bg); !errors.Is(err, ErrClosed) {
		t.Fatalf("the loop's cursor after Stop: %v, want ErrClosed", err)
	}
}

func TestReactLoopPastItsBudgetEndsWithTheCause(t *testing.T) {
	th := newTestHub(t, 16)
	th.run(t)
	rig := newReactRig(t)
	c, _ := th.Cursor(event.AllEvents(), 0)
	bad := errors.New("always fails")
	l := NewLoop(bg, "r", c, func(context.Context, *event.StoredEvent) error { return bad })
	rig.add(t, l, supervisor.Once())
	th.publish(1, "p:1", "room:1", kindA)
	<-l.Done()
	if !errors.Is(l.Err(), bad) {
		t.Fatalf("Err = %v, want the reactor's error", l.Err())
	}
}

func TestReactLoopEndsWithItsContextAndWithTheStore(t *testing.T) {
	th := newTestHub(t, 16)
	stop := th.run(t)
	rig := newReactRig(t)
	ctx, cancel := context.WithCancel(bg)
	c1, _ := th.Cursor(event.AllEvents(), 0)
	l1 := NewLoop(ctx, "byctx", c1, func(context.Context, *event.StoredEvent) error { return nil })
	rig.add(t, l1, supervisor.Once())
	c2, _ := th.Cursor(event.AllEvents(), 0)
	var n atomic.Int64
	l2 := NewLoop(bg, "bystore", c2, func(context.Context, *event.StoredEvent) error { n.Add(1); return nil })
	rig.add(t, l2, supervisor.Once())
	cancel()
	<-l1.Done()
	stop() // the store closes under the running loop
	<-l2.Done()
	if l1.Err() != nil || l2.Err() != nil {
		t.Fatalf("Err = %v, %v; want nil for deliberate ends", l1.Err(), l2.Err())
	}
}

func TestDurableReactLoopAcknowledgesWhatItHandled(t *testing.T) {
	fs := newMemFS(t)
	th := withFS(newTestHub(t, 16), fs)
	th.run(t)
	rig := newReactRig(t)
	d, err := th.OpenCursor("reactor", event.AllEvents())
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan uint64, 100)
	l := NewDurableLoop(bg, "r", d, func(_ context.Context, ev *event.StoredEvent) error {
		seen <- ev.Global
		return nil
	})
	rig.add(t, l, supervisor.Once())
	th.publish(7, "p:1", "room:1", kindA)
	for range 7 {
		<-seen
	}
	if err := l.Stop(hangGuard(t)); err != nil {
		t.Fatal(err)
	}
	d2, err := th.OpenCursor("reactor", event.AllEvents())
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if d2.Acked() != 7 {
		t.Fatalf("acked %d after the loop, want 7", d2.Acked())
	}
}
