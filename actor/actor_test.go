package actor

import (
	"context"
	"errors"
	"runtime/pprof"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSendBlocksUntilContextEnds(t *testing.T) {
	done := make(chan struct{})
	mb := NewMailbox[int](1, done)
	if err := mb.Send(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := mb.Send(ctx, 2); !errors.Is(err, context.Canceled) {
		t.Fatalf("full mailbox, cancelled ctx: %v", err)
	}
	if err := mb.TrySend(3); !errors.Is(err, ErrFull) {
		t.Fatalf("TrySend on full: %v", err)
	}
	close(done)
	if err := mb.Send(context.Background(), 4); !errors.Is(err, ErrStopped) {
		t.Fatalf("stopped actor: %v", err)
	}
	if mb.Len() != 1 || mb.Cap() != 1 {
		t.Fatal("len/cap")
	}
}

func TestAwait(t *testing.T) {
	done := make(chan struct{})
	reply := make(chan int, 1)
	reply <- 7
	if v, err := Await(context.Background(), reply, done); v != 7 || err != nil {
		t.Fatalf("%d %v", v, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Await(ctx, reply, done); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	// A reply sent just before the actor stopped is still delivered.
	reply <- 8
	close(done)
	if v, err := Await(context.Background(), reply, done); v != 8 || err != nil {
		t.Fatalf("reply before stop: %d %v", v, err)
	}
	if _, err := Await(context.Background(), reply, done); !errors.Is(err, ErrStopped) {
		t.Fatalf("stopped: %v", err)
	}
}

func TestGroupLabelsJoinsAndRefusesAfterClose(t *testing.T) {
	var g Group
	var ran atomic.Int32
	label := make(chan string, 1)
	release := make(chan struct{})
	if err := g.Go("worker", func(ctx context.Context) {
		v, _ := pprof.Label(ctx, "actor")
		label <- v
		<-release
		ran.Add(1)
	}); err != nil {
		t.Fatal(err)
	}
	if got := <-label; got != "worker" {
		t.Fatalf("label %q", got)
	}
	close(release)
	g.Close()
	if ran.Load() != 1 {
		t.Fatal("Close returned before the goroutine finished")
	}
	if err := g.Go("late", func(context.Context) {}); !errors.Is(err, ErrStopped) {
		t.Fatalf("Go after Close: %v", err)
	}
}
