package reliability_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// Many producers, with expected-sequence conflicts, idempotent retries and
// batches, against readers that run all the while.

func TestConcurrentProducersConflictsAndRetriesKeepTheLogConsistent(t *testing.T) {
	const producers = 8
	perProducer := 1000
	if testing.Short() {
		perProducer = 200
	}
	dir := t.TempDir()
	s := openStore(t, dir)
	shared := []string{"shared:0", "shared:1", "shared:2", "shared:3"}

	var (
		acks      = make([][]batpak.Receipt, producers) // originals, per producer
		conflicts atomic.Int64
		replays   atomic.Int64
		lastAck   [producers]atomic.Pointer[batpak.Receipt]
		stop      = make(chan struct{})
		readersWG sync.WaitGroup
		reads     atomic.Int64
	)

	// Readers: every snapshot is in global order, visibility never goes
	// backwards, and every acknowledged event can be read at once. They
	// read incrementally after each producer tick (a full pass every 32nd)
	// so that they do not starve the producers of CPU.
	tick := make(chan struct{}, 1)
	for rd := range 2 {
		readersWG.Go(func() {
			var seen uint64 // the newest global this reader has seen
			for pass := 0; ; pass++ {
				select {
				case <-stop:
					return
				case <-tick:
				}
				from := seen
				if pass%32 == 0 {
					from = 0
				}
				last := from
				for ev, err := range s.QueryAfter(bg, event.AllEvents(), from) {
					if err != nil {
						t.Errorf("reader %d: Query: %v", rd, err)
						return
					}
					if ev.Global <= last {
						t.Errorf("reader %d: global %d after %d", rd, ev.Global, last)
						return
					}
					last = ev.Global
				}
				if last < seen {
					t.Errorf("reader %d: newest visible global %d after %d was visible", rd, last, seen)
					return
				}
				seen = last
				for p := range producers {
					r := lastAck[p].Load()
					if r == nil {
						continue
					}
					ev, err := s.Get(bg, r.ID)
					if err != nil {
						t.Errorf("reader %d: Get of an acknowledged event: %v", rd, err)
						return
					}
					if !receiptMatches(*r, ev) {
						t.Errorf("reader %d: Get returned another event than the receipt names", rd)
						return
					}
				}
				if _, err := s.Latest(bg, shared[rd]); err != nil && !errors.Is(err, batpak.ErrNotFound) {
					t.Errorf("reader %d: Latest: %v", rd, err)
					return
				}
				reads.Add(1)
			}
		})
	}

	var producersWG sync.WaitGroup
	for p := range producers {
		producersWG.Go(func() {
			own := coord(t, fmt.Sprintf("producer:%d", p), "work")
			ack := func(r batpak.Receipt) {
				acks[p] = append(acks[p], r)
				lastAck[p].Store(&r)
				select {
				case tick <- struct{}{}:
				default:
				}
			}
			for j := range perProducer {
				var err error
				switch j % 8 {
				case 0, 4: // expected-sequence append to a contended entity
					err = casAppend(s, coord(t, shared[(p+j)%len(shared)], "work"), payload{Producer: p, N: j}, &conflicts, ack)
				case 1, 5: // idempotent append, submitted twice at once as a retry would be
					err = idempotentTwice(s, own, fmt.Sprintf("p%d-%d", p, j), payload{Producer: p, N: j}, &replays, ack)
				case 7: // a small batch across the producer's own and a shared entity
					var rs []batpak.Receipt
					rs, err = s.AppendBatch(bg, []batpak.BatchItem{
						{Coord: own, Kind: kindMoved, Payload: payload{Producer: p, N: j}},
						{Coord: coord(t, shared[p%len(shared)], "work"), Kind: kindSpoke, Payload: payload{Producer: p, N: j}, Cause: batpak.CauseItem(0)},
					})
					for _, r := range rs {
						ack(r)
					}
				default:
					var r batpak.Receipt
					if r, err = s.Append(bg, own, kindMoved, payload{Producer: p, N: j}); err == nil {
						ack(r)
					}
				}
				if err != nil {
					t.Errorf("producer %d, append %d: %v", p, j, err)
					return
				}
			}
		})
	}
	producersWG.Wait()
	close(stop)
	readersWG.Wait()
	if t.Failed() {
		return
	}
	t.Logf("%d producers × %d appends: %d expected-sequence conflicts retried, %d idempotent replays, %d reader passes",
		producers, perProducer, conflicts.Load(), replays.Load(), reads.Load())

	var acked []batpak.Receipt
	for _, a := range acks {
		acked = append(acked, a...)
	}
	verify := func(s *batpak.Store, when string) []*batpak.StoredEvent {
		t.Helper()
		evs := all(t, s)
		byID := make(map[batpak.ID]*batpak.StoredEvent, len(evs))
		for _, ev := range evs {
			byID[ev.ID] = ev
		}
		if len(byID) != len(evs) {
			t.Fatalf("%s: %d events but %d distinct ids", when, len(evs), len(byID))
		}
		for _, r := range acked {
			ev, ok := byID[r.ID]
			if !ok {
				t.Fatalf("%s: acknowledged event %v (global %d) missing", when, r.ID, r.Global)
			}
			if !receiptMatches(r, ev) {
				t.Fatalf("%s: event %v differs from its receipt", when, r.ID)
			}
		}
		if len(evs) != len(acked) {
			t.Fatalf("%s: %d events in the log, %d acknowledged: retries or conflicts wrote extra events", when, len(evs), len(acked))
		}
		checkLog(t, s, evs, true)
		return evs
	}
	before := verify(s, "live")
	closeStore(t, s)

	s = openStore(t, dir)
	after := verify(s, "reopened")
	for i := range before {
		if d := sameEvent(before[i], after[i]); d != "" {
			t.Fatalf("reopened: event %d differs in %s", i, d)
		}
	}
	// Keys survive the reopen: a late retry is still a replay.
	r, err := s.AppendWithOptions(bg, coord(t, "producer:0", "work"), kindMoved, payload{Producer: 0, N: 1}, batpak.AppendOptions{IdempotencyKey: "p0-1"})
	if err != nil || !r.Replayed {
		t.Fatalf("retry after reopen: %+v, %v; want a replay", r, err)
	}
}

// casAppend appends with an expected sequence read from Latest, retrying
// on *SequenceMismatchError by reading Latest again.
func casAppend(s *batpak.Store, c batpak.Coordinate, p payload, conflicts *atomic.Int64, ack func(batpak.Receipt)) error {
	for attempt := 0; attempt < 100000; attempt++ {
		next := uint64(0)
		latest, err := s.Latest(bg, c.Entity())
		switch {
		case err == nil:
			next = latest.Sequence + 1
		case !errors.Is(err, batpak.ErrNotFound):
			return err
		}
		r, err := s.AppendWithOptions(bg, c, kindSpoke, p, event.Expect(next))
		var sm *batpak.SequenceMismatchError
		if errors.As(err, &sm) {
			if sm.Entity != c.Entity() || sm.Expected != next || sm.Actual <= next {
				return fmt.Errorf("mismatch %+v after expecting %d", *sm, next)
			}
			conflicts.Add(1)
			// The appends that moved the entity on may still be in flight;
			// Sync returns once they are visible, so Latest can see them.
			if err := s.Sync(bg); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if r.Sequence != next {
			return fmt.Errorf("expected sequence %d, got %d", next, r.Sequence)
		}
		ack(r)
		return nil
	}
	return errors.New("expected-sequence append never succeeded")
}

// idempotentTwice submits the same keyed append twice at once: exactly one
// must write, and both must name the same event.
func idempotentTwice(s *batpak.Store, c batpak.Coordinate, key string, p payload, replays *atomic.Int64, ack func(batpak.Receipt)) error {
	opts := batpak.AppendOptions{IdempotencyKey: key}
	t1, err := s.Submit(bg, c, kindMoved, p, opts)
	if err != nil {
		return err
	}
	t2, err := s.Submit(bg, c, kindMoved, p, opts)
	if err != nil {
		return err
	}
	r1, err := t1.Wait(bg)
	if err != nil {
		return err
	}
	r2, err := t2.Wait(bg)
	if err != nil {
		return err
	}
	if r1.Replayed || !r2.Replayed {
		return fmt.Errorf("first submission replayed=%v, retry replayed=%v", r1.Replayed, r2.Replayed)
	}
	r2.Replayed = false
	if r1 != r2 {
		return fmt.Errorf("retry returned %+v, original %+v", r2, r1)
	}
	replays.Add(1)
	ack(r1)
	return nil
}

func TestCloseDuringAppendsAnswersEveryCaller(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	const producers = 6
	acks := make([][]batpak.Receipt, producers)
	errs := make([]error, producers)
	started := make(chan struct{}, producers*20)
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			c := coord(t, fmt.Sprintf("producer:%d", p), "s")
			for i := 0; ; i++ {
				var rs []batpak.Receipt
				var err error
				if i%4 == 3 {
					rs, err = s.AppendBatch(bg, []batpak.BatchItem{
						{Coord: c, Kind: kindMarker, Payload: batchMark{Batch: p*100000 + i, Item: 0, Of: 2}},
						{Coord: c, Kind: kindMarker, Payload: batchMark{Batch: p*100000 + i, Item: 1, Of: 2}},
					})
				} else {
					var r batpak.Receipt
					r, err = s.Append(bg, c, kindMoved, payload{Producer: p, N: i})
					rs = []batpak.Receipt{r}
				}
				if err != nil {
					errs[p] = err
					return
				}
				acks[p] = append(acks[p], rs...)
				select {
				case started <- struct{}{}:
				default:
				}
			}
		})
	}
	for range producers * 10 { // let the producers get going
		<-started
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close during appends: %v", err)
	}
	wg.Wait() // every producer was answered: none hangs
	for p, err := range errs {
		if !errors.Is(err, batpak.ErrClosed) && !errors.Is(err, batpak.ErrShuttingDown) {
			t.Errorf("producer %d stopped with %v, want ErrClosed or ErrShuttingDown", p, err)
		}
	}

	s = openStore(t, dir)
	evs := all(t, s)
	byID := map[batpak.ID]*batpak.StoredEvent{}
	for _, ev := range evs {
		byID[ev.ID] = ev
	}
	n := 0
	for p := range acks {
		for _, r := range acks[p] {
			if ev, ok := byID[r.ID]; !ok || !receiptMatches(r, ev) {
				t.Fatalf("producer %d: acknowledged event (global %d) missing after Close and reopen", p, r.Global)
			}
			n++
		}
	}
	if _, err := batchCounts(evs); err != nil {
		t.Fatal(err)
	}
	checkLog(t, s, evs, true)
	t.Logf("%d events acknowledged before Close, %d in the log", n, len(evs))
}
