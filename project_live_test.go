package batpak_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/projector"
)

// projCtx bounds a test that waits, so it fails instead of hanging; it is
// a safety net, not a timing assertion.
func projCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestWatchProjectionConvergesWithATinyBuffer(t *testing.T) {
	ctx := projCtx(t)
	s := projOpen(t, t.TempDir())
	w, err := batpak.WatchProjection[projScore](s, "player:1", batpak.WakeBuffer(1))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	u, err := w.Next(ctx)
	if err != nil || u.State.Count != 0 {
		t.Fatalf("first state %+v, %v", u, err)
	}
	// Appends commit while nobody receives: the one-slot buffer overflows.
	for range 50 {
		projAppend(t, s, []projEvent{{"player:1", projInc, 1}, {"player:2", projInc, 1}, {"player:1", projNote, 0}})
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 50 {
			projAppend(t, s, []projEvent{{"player:1", projInc, 1}, {"player:1", projDec, 0}})
		}
	})
	for u.State.Count < 150 {
		prev := u.Watermark
		if u, err = w.Next(ctx); err != nil {
			t.Fatal(err)
		}
		if u.Watermark <= prev {
			t.Fatalf("watermark went from %d to %d", prev, u.Watermark)
		}
	}
	wg.Wait()
	if want := mustProjectScore(t, s, "player:1"); u.State != want || want.Total != 100 {
		t.Fatalf("watch converged to %+v, the log says %+v", u.State, want)
	}
}

func mustProjectScore(t *testing.T, s *batpak.Store, entity string) projScore {
	t.Helper()
	return projMust[projScore](t, s, entity, batpak.Consistent)
}

func TestWatchProjectionEndsWhenTheStoreCloses(t *testing.T) {
	ctx := projCtx(t)
	s := projOpen(t, t.TempDir())
	w, err := batpak.WatchProjection[projScore](s, "player:1")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Next(ctx)
	errc := make(chan error, 1)
	go func() {
		_, err := w.Next(ctx)
		errc <- err
	}()
	s.Close()
	if err := <-errc; err == nil {
		t.Fatal("Next returned no error after the store closed")
	}
	if _, err := batpak.WatchProjection[projScore](s, "player:1"); !errors.Is(err, batpak.ErrClosed) {
		t.Fatalf("WatchProjection on a closed store: %v", err)
	}
}

func TestProjectorWaitAppliedReadsYourWrites(t *testing.T) {
	ctx := projCtx(t)
	s := projOpen(t, t.TempDir())
	p, err := batpak.NewProjector(s)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	roster, err := projector.Register[projRoster](p, "", projector.Over(event.ForEntity("player:*")))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			coord := event.MustCoordinate(fmt.Sprintf("player:%d", g), "room:1")
			for i := range 25 {
				r, err := s.Append(ctx, coord, projInc, projStep{By: 1})
				if err != nil {
					t.Error(err)
					return
				}
				if err := p.WaitApplied(ctx, "roster", r.Global); err != nil {
					t.Error(err)
					return
				}
				if err := roster.Read(ctx, func(st *projRoster, mark uint64) {
					if n := st.Counts[coord.Entity()]; n < i+1 || mark < r.Global {
						t.Errorf("%s: after WaitApplied(%d) the roster has %d of its %d events at watermark %d", coord.Entity(), r.Global, n, i+1, mark)
					}
				}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	// An event outside the read model's region is "applied" at once.
	r, err := s.Append(ctx, event.MustCoordinate("npc:1", "room:1"), projInc, projStep{By: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WaitApplied(ctx, "roster", r.Global); err != nil {
		t.Fatal(err)
	}
	u, err := roster.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, err := batpak.ProjectRegion[projRoster](ctx, s, event.ForEntity("player:*"), batpak.Consistent)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(u.State.Counts) != fmt.Sprint(want.Counts) || len(want.Counts) != 4 {
		t.Fatalf("live %v, projected %v", u.State.Counts, want.Counts)
	}
}

func TestProjectorRestartRebuildsIdenticalState(t *testing.T) {
	ctx := projCtx(t)
	s := projOpen(t, t.TempDir(), projQuiet)
	rng := rand.New(rand.NewPCG(3, 3))
	projAppend(t, s, projGenEvents(rng, 100, 1))
	p, err := batpak.NewProjector(s)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	live, err := projector.Register[projFragile](p, "", projector.Entity("player:0"))
	if err != nil {
		t.Fatal(err)
	}
	if err := live.WaitApplied(ctx, 0); err != nil { // the first build is done
		t.Fatal(err)
	}
	projTripped.Store(true)
	projAppend(t, s, projGenEvents(rng, 50, 1))
	projAppend(t, s, []projEvent{{"player:0", projInc, 13}})
	projAppend(t, s, projGenEvents(rng, 50, 1))
	if err := p.WaitApplied(ctx, "fragile", s.Stats().LastGlobal); err != nil {
		t.Fatal(err)
	}
	u, err := live.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := mustProjectScore(t, s, "player:0"); u.State.projScore != want {
		t.Fatalf("rebuilt state %+v, the log's fold %+v", u.State.projScore, want)
	}
	if r, b := p.Restarts("fragile"), live.Builds(); r != 1 || b != 2 || projTripped.Load() {
		t.Fatalf("%d restarts, %d builds (tripped still armed: %t); want 1 and 2", r, b, projTripped.Load())
	}
}

func TestProjectorStopsWhenTheStoreCloses(t *testing.T) {
	ctx := projCtx(t)
	s := projOpen(t, t.TempDir(), projQuiet)
	p, err := batpak.NewProjector(s)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	live, err := projector.Register[projScore](p, "", projector.Entity("player:1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := live.WaitApplied(ctx, 0); err != nil {
		t.Fatal(err)
	}
	s.Close()
	<-live.Done()
	if err := live.Err(); !errors.Is(err, projector.ErrStopped) || !errors.Is(err, batpak.ErrClosed) {
		t.Fatalf("Err = %v, want ErrStopped caused by ErrClosed", err)
	}
	if r := p.Restarts("score"); r != 0 {
		t.Fatalf("%d restarts against a closed store", r)
	}
}

func ExampleWatchProjection() {
	dir, _ := os.MkdirTemp("", "batpak-example-")
	defer os.RemoveAll(dir)
	store, err := batpak.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	acct := event.MustCoordinate("account:7", "bank")

	w, err := batpak.WatchProjection[AccountBalance](store, "account:7")
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	u, _ := w.Next(ctx) // the current state
	fmt.Println("balance:", u.State.Cents)

	store.Append(ctx, acct, acctDeposited, int64(300))
	u, _ = w.Next(ctx) // blocks until an event changes the state
	fmt.Println("balance:", u.State.Cents, "at", u.Watermark)
	// Output:
	// balance: 0
	// balance: 300 at 1
}

func ExampleNewProjector() {
	dir, _ := os.MkdirTemp("", "batpak-example-")
	defer os.RemoveAll(dir)
	store, err := batpak.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()

	p, err := batpak.NewProjector(store)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	// A live read model over every account.
	bank, err := projector.Register[AccountBalance](p, "bank", projector.Over(event.ForEntity("account:*")))
	if err != nil {
		log.Fatal(err)
	}
	for i, amount := range []int64{100, 250, 50} {
		r, _ := store.Append(ctx, event.MustCoordinate(fmt.Sprintf("account:%d", i), "bank"), acctDeposited, amount)
		// Read your writes: wait until the read model includes the append.
		if err := p.WaitApplied(ctx, "bank", r.Global); err != nil {
			log.Fatal(err)
		}
	}
	u, _ := bank.Snapshot(ctx)
	fmt.Println("total deposits:", u.State.Cents)
	// Output:
	// total deposits: 400
}
