package subscriber

import (
	"errors"
	"testing"

	"github.com/batpak-go/batpak/event"
)

func TestSubscribeLossyRejectsCapacityOutOfRange(t *testing.T) {
	th := newTestHub(t, 16)
	for _, c := range []int{0, -1, MaxCapacity + 1} {
		if _, err := th.SubscribeLossy(event.AllEvents(), c); !errors.Is(err, ErrInvalidCapacity) {
			t.Errorf("capacity %d: %v, want ErrInvalidCapacity", c, err)
		}
	}
}

func TestLossyCloseEndsRecvAndClosesC(t *testing.T) {
	th := newTestHub(t, 16)
	th.run(t)
	ctx := hangGuard(t)
	blocked := make(chan struct{})
	l, _ := th.SubscribeLossy(event.AllEvents(), 4)
	errc := make(chan error, 1)
	go func() {
		close(blocked)
		_, err := l.Recv(ctx)
		errc <- err
	}()
	<-blocked
	l.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("Recv after Close: %v, want ErrClosed", err)
	}
	// The actor closes the channel when it lets go of the subscription.
	for range l.C() {
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	th.publish(3, "p:1", "room:1", kindA)
	if l.Dropped() != 0 {
		t.Fatal("a closed subscription counted drops")
	}
}

func TestStoreCloseLeavesBufferedNotificationsReadable(t *testing.T) {
	th := newTestHub(t, 16)
	stop := th.run(t)
	l, _ := th.SubscribeLossy(event.AllEvents(), 4)
	th.publish(6, "p:1", "room:1", kindA)
	stop()
	got := recvN(t, bg, l, 4)
	checkRun(t, "buffered", globals(got), 1, 4)
	if _, err := l.Recv(bg); !errors.Is(err, errStore) {
		t.Fatalf("Recv after the buffer: %v, want the store's error", err)
	}
	if l.Dropped() != 2 {
		t.Fatalf("dropped %d, want 2", l.Dropped())
	}
	if _, ok := <-l.C(); ok {
		t.Fatal("C still open after the store closed")
	}
	if _, err := th.SubscribeLossy(event.AllEvents(), 4); !errors.Is(err, errStore) {
		t.Fatalf("SubscribeLossy after close: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOperatorsFilterMapTake(t *testing.T) {
	th := newTestHub(t, 16)
	th.run(t)
	l, _ := th.SubscribeLossy(event.AllEvents(), 100)
	evenGlobals := Take(Map(Filter[event.Notification](l, func(n event.Notification) bool { return n.Global%2 == 0 }),
		func(n event.Notification) uint64 { return n.Global }), 3)
	th.publish(10, "p:1", "room:1", kindA)
	ctx := hangGuard(t)
	for _, want := range []uint64{2, 4, 6} {
		g, err := evenGlobals.Recv(ctx)
		if err != nil || g != want {
			t.Fatalf("Recv = %d, %v; want %d", g, err, want)
		}
	}
	if _, err := evenGlobals.Recv(ctx); !errors.Is(err, ErrDone) {
		t.Fatalf("Recv past Take: %v, want ErrDone", err)
	}
	if _, err := l.Recv(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("the source after Take: %v, want ErrClosed", err)
	}
	if evenGlobals.Dropped() != 0 {
		t.Fatal("Dropped does not reach the source")
	}
}

func TestLossyCDeliversInOrderAndEndsWithTheStore(t *testing.T) {
	th := newTestHub(t, 16)
	stop := th.run(t)
	l, _ := th.SubscribeLossy(event.ForScope("room:2"), 1000)
	c := l.C()
	for range 20 {
		th.publish(2, "p:1", "room:1", kindA)
		th.publish(3, "p:2", "room:2", kindA)
	}
	var gs []uint64
	for n := range c {
		if gs = append(gs, n.Global); len(gs) == 60 {
			break
		}
	}
	for i, g := range gs {
		if want := uint64(5*(i/3) + 3 + i%3); g != want {
			t.Fatalf("notification %d: global %d, want %d", i, g, want)
		}
	}
	stop() // joins the goroutine feeding C
	if _, ok := <-c; ok {
		t.Fatal("C open after the store closed")
	}
}

func TestLossyBufferIsBoundedByCapacityAcrossPublications(t *testing.T) {
	th := newTestHub(t, 16)
	stop := th.run(t)
	l, _ := th.SubscribeLossy(event.ForEntity("p:2"), 7)
	for range 10 {
		th.publish(1, "p:1", "room:1", kindA)
		th.publish(2, "p:2", "room:1", kindA)
	}
	stop()
	if l.Len() != 7 || l.Dropped() != 13 {
		t.Fatalf("buffered %d, dropped %d; want 7 and 13", l.Len(), l.Dropped())
	}
	got := globals(drain(l))
	for i, g := range []uint64{2, 3, 5, 6, 8, 9, 11} {
		if got[i] != g {
			t.Fatalf("buffered %v, want the first seven of p:2", got)
		}
	}
}
