package natsembed_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/jetstream"
	"github.com/batpak-go/batpak/natsembed"
)

// TestClusterLeaderLoss runs concurrent conditional, idempotent and batched
// appends against a three-server cluster (three replicas) and shuts the
// stream's leader down mid-run. Afterwards every acknowledged event is
// stored exactly once where its receipt says, every entity's sequences run
// without a gap and every chain verifies. BATPAK_SOAK=1 repeats the run
// ten times with longer phases.
func TestClusterLeaderLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("a three-server cluster: not in -short")
	}
	runs, ops := 1, 3000
	if os.Getenv("BATPAK_SOAK") != "" {
		runs, ops = 10, 20000
	}
	for run := range runs {
		t.Run(fmt.Sprintf("run%d", run), func(t *testing.T) { clusterRun(t, ops) })
	}
}

// acked is what the workers were told was stored.
type acked struct {
	mu       sync.Mutex
	receipts map[batpak.ID]batpak.Receipt
	keys     map[string]batpak.ID
}

func (a *acked) add(t *testing.T, rs ...batpak.Receipt) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range rs {
		if prev, ok := a.receipts[r.ID]; ok && prev.Global != r.Global {
			t.Errorf("event %v acknowledged at %d and %d", r.ID, prev.Global, r.Global)
		}
		a.receipts[r.ID] = r
	}
}

func clusterRun(t *testing.T, ops int) {
	c, err := natsembed.StartCluster(natsembed.Options{Dir: t.TempDir()}, 3)
	if err != nil {
		t.Fatalf("StartCluster: %v", err)
	}
	t.Cleanup(c.Shutdown)
	o := jetstream.Options{Stream: "CLUSTER", Subject: "cl", Replicas: 3, Timeout: time.Second, Attempts: 30}
	s := openStore(t, connect(t, c), o)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	const workers = 6
	got := &acked{receipts: map[batpak.ID]batpak.Receipt{}, keys: map[string]batpak.ID{}}
	var done atomic.Int64
	killAt := int64(ops / 3)
	killed := make(chan string, 1)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := 0; done.Load() < int64(ops) && ctx.Err() == nil; i++ {
				clusterOp(ctx, t, s, got, rng, w, i)
				if done.Add(1) == killAt {
					leader := c.StreamLeader(o.Stream)
					if leader == nil {
						t.Errorf("no stream leader at the kill point")
						continue
					}
					leader.Shutdown() // mid-run, with the other workers writing
					killed <- leader.Name()
				}
			}
		}()
	}
	wg.Wait()
	select {
	case name := <-killed:
		t.Logf("shut down the stream leader %s after %d operations", name, killAt)
	default:
		t.Fatalf("the leader was never shut down")
	}
	if t.Failed() {
		return
	}
	verifyCluster(ctx, t, s, got)
}

// clusterOp runs one random operation; what is acknowledged is recorded.
// Errors of operations whose outcome may be unknown (time-outs during the
// election) are allowed; keyed operations are retried with the same key
// until acknowledged, which must store them once.
func clusterOp(ctx context.Context, t *testing.T, s *jetstream.Store, got *acked, rng *rand.Rand, w, i int) {
	coord := func() batpak.Coordinate {
		return event.MustCoordinate(fmt.Sprintf("ent:%d", rng.IntN(12)), fmt.Sprintf("scope:%d", rng.IntN(3)))
	}
	switch op := rng.IntN(10); {
	case op < 4: // plain append, rebuilt on conflicts
		if r, err := s.Append(ctx, coord(), kindStep, i); err == nil {
			got.add(t, r)
		} else if !tolerable(err) {
			t.Errorf("append: %v", err)
		}
	case op < 6: // conditional append from what Latest says
		c := coord()
		var next uint64
		if ev, err := s.Latest(ctx, c.Entity()); err == nil {
			next = ev.Sequence + 1
		} else if !errors.Is(err, batpak.ErrNotFound) {
			if !tolerable(err) {
				t.Errorf("latest: %v", err)
			}
			return
		}
		r, err := s.AppendWithOptions(ctx, c, kindStep, i, event.Expect(next))
		switch {
		case err == nil:
			if r.Sequence != next {
				t.Errorf("conditional append at %d got sequence %d", next, r.Sequence)
			}
			got.add(t, r)
		case errors.Is(err, batpak.ErrSequenceMismatch), tolerable(err):
		default:
			t.Errorf("conditional append: %v", err)
		}
	case op < 8: // idempotent append, retried until acknowledged
		key := fmt.Sprintf("w%d-%d", w, i)
		c := coord()
		for ctx.Err() == nil {
			r, err := s.AppendWithOptions(ctx, c, kindStep, i, event.AppendOptions{IdempotencyKey: key})
			if err != nil {
				if !tolerable(err) {
					t.Errorf("keyed append: %v", err)
					return
				}
				continue
			}
			got.add(t, r)
			got.mu.Lock()
			got.keys[key] = r.ID
			got.mu.Unlock()
			// A deliberate retry must return the same event.
			again, err := s.AppendWithOptions(ctx, c, kindStep, i, event.AppendOptions{IdempotencyKey: key})
			if err == nil && (again.ID != r.ID || !again.Replayed) {
				t.Errorf("retry of key %s: %v (replayed %v), want %v", key, again.ID, again.Replayed, r.ID)
			}
			return
		}
	default: // an atomic batch over a few entities
		n := 2 + rng.IntN(4)
		items := make([]batpak.BatchItem, n)
		for j := range items {
			items[j] = batpak.BatchItem{Coord: coord(), Kind: kindStep, Payload: j}
		}
		if rs, err := s.AppendBatch(ctx, items); err == nil {
			got.add(t, rs...)
		} else if !tolerable(err) {
			t.Errorf("batch: %v", err)
		}
	}
}

// tolerable errors leave an operation's outcome open or refuse it whole:
// they are what a client sees while a leader is elected.
func tolerable(err error) bool {
	return errors.Is(err, batpak.ErrOutcomeUnknown) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, batpak.ErrSequenceMismatch) || errors.Is(err, jetstream.ErrUnavailable)
}

// queryToHead reads every event of s, again until the read reaches head:
// a follower answering a query may lag the leader by a moment
// (docs/SCALE-OUT.md, "reads"), and the truth acknowledgements and
// cursors are held to must hold every event.
func queryToHead(ctx context.Context, t *testing.T, s *jetstream.Store, head uint64) []*batpak.StoredEvent {
	t.Helper()
	for {
		all := collect(t, s.Query(ctx, event.AllEvents()))
		last := uint64(0)
		if len(all) > 0 {
			last = all[len(all)-1].Global
		}
		if last >= head || ctx.Err() != nil {
			return all
		}
	}
}

// verifyCluster checks the stream against what was acknowledged and
// returns its head.
func verifyCluster(ctx context.Context, t *testing.T, s *jetstream.Store, got *acked) uint64 {
	head, err := s.Head(ctx)
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	// A replica answering reads may lag the leader by a moment: read until
	// what it returns reaches the leader's head.
	var rep jetstream.VerifyReport
	for ctx.Err() == nil {
		if rep, err = s.Verify(ctx); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if rep.Problem != nil {
			t.Fatalf("Verify: %v", rep.Problem)
		}
		if rep.Last >= head {
			break
		}
	}
	stored := map[batpak.ID]*batpak.StoredEvent{}
	for _, ev := range queryToHead(ctx, t, s, head) {
		if _, dup := stored[ev.ID]; dup {
			t.Fatalf("event %v stored twice", ev.ID)
		}
		stored[ev.ID] = ev
	}
	keys := map[string]int{}
	for _, ev := range stored {
		if ev.IdempotencyKey != "" {
			keys[ev.IdempotencyKey]++
		}
	}
	for k, n := range keys {
		if n != 1 {
			t.Errorf("key %s stored %d times", k, n)
		}
	}
	for id, r := range got.receipts {
		ev, ok := stored[id]
		if !ok {
			t.Errorf("acknowledged event %v (global %d) is missing", id, r.Global)
			continue
		}
		if ev.Global != r.Global || ev.Sequence != r.Sequence || ev.Hash.Self != r.Hash {
			t.Errorf("event %v stored at %d seq %d, acknowledged at %d seq %d", id, ev.Global, ev.Sequence, r.Global, r.Sequence)
		}
	}
	for k, id := range got.keys {
		if stored[id] == nil || stored[id].IdempotencyKey != k {
			t.Errorf("key %s: acknowledged event %v not stored with it", k, id)
		}
	}
	t.Logf("%d events stored, %d acknowledged, %d entities, %d keys", rep.Events, len(got.receipts), rep.Entities, len(keys))
	return head
}
