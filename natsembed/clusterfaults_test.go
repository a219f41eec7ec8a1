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
	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The faults a cluster meets, each against three servers and a stream of
// three replicas (faultnet_test.go controls their network), with clients
// appending through it — plain, conditional, keyed and batched appends,
// keyed ones retried until acknowledged — and two cursors reading every
// event, one guaranteed and one durable, each closed and reopened where it
// stood when the fault strikes. The fault is driven by progress (so many
// operations done), never by time. Afterwards, for every scenario:
//
//   - every acknowledged event is stored exactly once, where its receipt
//     says, and no idempotency key twice (verifyCluster);
//   - every entity's sequences run without a gap and every chain and link
//     verifies (Store.Verify);
//   - no atomic batch is stored in part (checkBatches, from the stored
//     messages' batch headers);
//   - each cursor delivered every event once, in order (the durable one
//     at least once: redeliveries after a reopen repeat only what it had
//     not acknowledged).
//
// BATPAK_SOAK=1 runs each scenario ten times, four times longer.

// faultScale is how many runs of each scenario, and its operations.
func faultScale() (runs, ops int) {
	if os.Getenv("BATPAK_SOAK") != "" {
		return 10, 1200
	}
	return 1, 300
}

// TestClusterFaultKillMidBatch: the stream leader's server is shut down
// while clients append mostly atomic batches, and started again (with its
// store) once the others have gone on without it.
func TestClusterFaultKillMidBatch(t *testing.T) {
	runFaults(t, func(r *faultRun) {
		victim := r.leader
		r.waitOps(r.total / 3)
		r.resumeCursors()
		r.c.stop(victim)
		r.logf("stopped %s, the stream leader, after %d operations", r.c.name(victim), r.ops.Load())
		r.c.waitLeader(r.o.Stream, victim)
		r.waitOps(2 * r.total / 3)
		r.c.restart(victim, false)
		r.c.waitCurrent(victim, r.o.Stream)
		r.logf("restarted %s; it caught up", r.c.name(victim))
	}, faultSetup{batchShare: 7, readerOn: -1})
}

// TestClusterFaultPartition: the stream leader's server is cut off from
// the other two while some clients stay connected to it (the minority
// side) and others to the majority; the partition heals once the
// majority has gone on under a new leader.
func TestClusterFaultPartition(t *testing.T) {
	runFaults(t, func(r *faultRun) {
		victim := r.leader
		r.waitOps(r.total / 4)
		r.resumeCursors()
		r.c.isolate(victim, true)
		start := r.majority.Load()
		r.logf("cut %s, the stream leader, off after %d operations", r.c.name(victim), r.ops.Load())
		r.c.waitLeader(r.o.Stream, victim)
		r.waitFor("the majority to go on", func() bool { return r.majority.Load() >= start+int64(r.total/8) })
		r.c.isolate(victim, false)
		r.logf("healed after %d more operations on the majority side", r.majority.Load()-start)
		r.c.waitCurrent(victim, r.o.Stream)
	}, faultSetup{batchShare: 3, minorityOnLeader: true, readerOn: -2})
}

// TestClusterFaultSlowFollower: one follower's links are slow from the
// start; halfway, the other follower is shut down, so every write waits
// for the slow one, and later it is started again.
func TestClusterFaultSlowFollower(t *testing.T) {
	runFaults(t, func(r *faultRun) {
		slow, other := r.followers[0], r.followers[1]
		r.c.slow(slow, 2*time.Millisecond)
		r.waitOps(r.total / 2)
		r.resumeCursors()
		r.c.stop(other)
		r.logf("%s slow, %s stopped after %d operations", r.c.name(slow), r.c.name(other), r.ops.Load())
		r.waitOps(3 * r.total / 4)
		r.c.restart(other, false)
		r.c.slow(slow, 0)
		r.c.waitCurrent(other, r.o.Stream)
		r.c.waitCurrent(slow, r.o.Stream)
	}, faultSetup{batchShare: 3, readerOn: 1})
}

// TestClusterFaultRestartEmpty: a follower is shut down, its store
// deleted, and started again empty; once it has caught up it is made the
// stream's leader, and the clients go on writing through it.
func TestClusterFaultRestartEmpty(t *testing.T) {
	runFaults(t, func(r *faultRun) {
		victim := r.followers[0]
		r.waitOps(r.total / 3)
		r.resumeCursors()
		r.c.stop(victim)
		r.waitOps(r.total / 2)
		r.c.restart(victim, true)
		r.logf("restarted %s empty after %d operations", r.c.name(victim), r.ops.Load())
		r.c.waitCurrent(victim, r.o.Stream)
		r.c.stepDownTo(r.admin, r.o.Stream, victim)
		r.logf("%s caught up and leads the stream after %d operations", r.c.name(victim), r.ops.Load())
	}, faultSetup{batchShare: 3, readerOn: 0})
}

// faultSetup shapes a scenario's clients.
type faultSetup struct {
	batchShare       int  // in 10 operations, how many are batches
	minorityOnLeader bool // half the workers on a client of the stream leader's server alone
	// readerOn is the index, in the followers list, of the server the
	// cursors' client is pinned to; -1: the leader's server, -2: any.
	readerOn int
}

// faultRun is one run of a scenario.
type faultRun struct {
	t         *testing.T
	c         *faultCluster
	o         jetstream.Options
	total     int   // operations, all workers together
	leader    int   // the stream leader at the start
	followers []int // the others
	admin     *nats.Conn

	got      *acked
	ops      atomic.Int64 // operations done
	majority atomic.Int64 // operations done by workers not on the minority side
	ctx      context.Context

	tolerated, batches, keyedRetries atomic.Int64
	resume                           atomic.Int64 // bumped to make the cursors reopen
	start                            time.Time
}

func (r *faultRun) logf(format string, args ...any) {
	r.t.Logf("%6.2fs: %s", time.Since(r.start).Seconds(), fmt.Sprintf(format, args...))
}

// waitOps waits until n operations are done.
func (r *faultRun) waitOps(n int) {
	r.t.Helper()
	r.waitFor(fmt.Sprintf("%d operations", n), func() bool { return r.ops.Load() >= int64(n) })
}

func (r *faultRun) waitFor(what string, cond func() bool) {
	r.t.Helper()
	r.c.waitFor(what, cond)
}

// resumeCursors makes both cursors close and reopen where they stand.
func (r *faultRun) resumeCursors() { r.resume.Add(1) }

func runFaults(t *testing.T, fault func(r *faultRun), setup faultSetup) {
	if testing.Short() {
		t.Skip("a three-server cluster under faults: not in -short")
	}
	runs, ops := faultScale()
	for run := range runs {
		t.Run(fmt.Sprintf("run%d", run), func(t *testing.T) { faultRunOnce(t, fault, setup, ops, run) })
	}
}

func faultRunOnce(t *testing.T, fault func(r *faultRun), setup faultSetup, total, seed int) {
	start := time.Now()
	c := startFaultCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	r := &faultRun{
		t: t, c: c, total: total, ctx: ctx, start: start,
		o:   jetstream.Options{Stream: "FAULTS", Subject: "f", Replicas: 3, Timeout: time.Second, Attempts: 30},
		got: &acked{receipts: map[batpak.ID]batpak.Receipt{}, keys: map[string]batpak.ID{}},
	}
	r.admin = c.connectAll()
	admin := openStore(t, r.admin, r.o) // creates the stream
	r.leader = c.waitLeader(r.o.Stream, -1)
	for i := range c.srvs {
		if i != r.leader {
			r.followers = append(r.followers, i)
		}
	}

	// The workers' clients: on any server; or, for a partition, half on
	// the stream leader's server alone (the minority side to be) and half
	// on a follower's (the majority).
	const workers = 6
	stores := make([]*jetstream.Store, workers)
	minority := make([]bool, workers)
	anyStore := openStore(t, c.connectAll(), r.o)
	var leaderStore *jetstream.Store
	if setup.minorityOnLeader {
		leaderStore = openStore(t, c.connectTo(r.leader), r.o)
		anyStore = openStore(t, c.connectTo(r.followers[0]), r.o)
	}
	for w := range workers {
		stores[w] = anyStore
		if leaderStore != nil && w%2 == 0 {
			stores[w], minority[w] = leaderStore, true
		}
	}
	readerConn := c.connectAll()
	switch {
	case setup.readerOn == -1:
		readerConn = c.connectTo(r.leader)
	case setup.readerOn >= 0:
		readerConn = c.connectTo(r.followers[setup.readerOn])
	}
	reader := openStore(t, readerConn, r.o)

	var wg sync.WaitGroup
	curs := &cursorLog{}
	durable := &cursorLog{}
	var stopReaders atomic.Uint64 // the head the readers read to, once known
	// headKnown ends the readers' waits when the head becomes known, so a
	// reader waiting at the head notices at once.
	headKnown, knowHead := context.WithCancel(ctx)
	defer knowHead()
	wg.Add(2)
	go func() { defer wg.Done(); r.readGuaranteed(headKnown, reader, curs, &stopReaders) }()
	go func() { defer wg.Done(); r.readDurable(headKnown, reader, durable, &stopReaders) }()

	// Each worker keeps its last eighth of operations until the fault has
	// run its course, so some writes always go through what it left.
	var work sync.WaitGroup
	faulted := make(chan struct{})
	per := total / workers
	for w := range workers {
		work.Add(1)
		go func() {
			defer work.Done()
			rng := rand.New(rand.NewPCG(uint64(seed), uint64(w)))
			for i := range per {
				if i == per-per/8 {
					select {
					case <-faulted:
					case <-ctx.Done():
					}
				}
				if ctx.Err() != nil {
					return
				}
				r.op(stores[w], rng, setup.batchShare, w, i)
				r.ops.Add(1)
				if !minority[w] {
					r.majority.Add(1)
				}
			}
		}()
	}
	fault(r)
	close(faulted)
	work.Wait()
	require.NoError(t, ctx.Err(), "the run took too long")
	r.logf("the workers are done")

	head := verifyCluster(ctx, t, admin, r.got)
	checkBatches(ctx, t, c, r.admin, r.o.Stream, head)
	stopReaders.Store(head)
	knowHead()
	wg.Wait()
	r.logf("the cursors have read everything")
	all := queryToHead(ctx, t, admin, head)
	var want []uint64
	for _, ev := range all {
		want = append(want, ev.Global)
	}
	assert.Equal(t, want, curs.globals(), "the guaranteed cursor delivered every event once, in order")
	assert.Equal(t, want, durable.globals(), "the durable cursor delivered every event, in order")
	r.logf("%d operations in %v: %d events stored, %d acknowledged, %d batches acknowledged, %d errors tolerated, %d keyed retries; cursors resumed %d and %d times, the durable one had %d events redelivered",
		total, time.Since(start).Round(time.Millisecond), len(all), len(r.got.receipts), r.batches.Load(), r.tolerated.Load(), r.keyedRetries.Load(),
		curs.resumes, durable.resumes, durable.redelivered)
}

// op runs one random operation and records what is acknowledged.
func (r *faultRun) op(s *jetstream.Store, rng *rand.Rand, batchShare, w, i int) {
	ctx, t := r.ctx, r.t
	coord := func() batpak.Coordinate {
		return event.MustCoordinate(fmt.Sprintf("ent:%d", rng.IntN(12)), fmt.Sprintf("scope:%d", rng.IntN(3)))
	}
	fail := func(what string, err error) {
		if ctx.Err() != nil {
			return // the run is over (it took too long, which fails it)
		}
		if tolerable(err) {
			r.tolerated.Add(1)
			return
		}
		t.Errorf("%s: %v", what, err)
	}
	batchItems := func(key string) []batpak.BatchItem {
		items := make([]batpak.BatchItem, 2+rng.IntN(5))
		for j := range items {
			items[j] = batpak.BatchItem{Coord: coord(), Kind: kindStep, Payload: j}
			if key != "" {
				items[j].Options.IdempotencyKey = fmt.Sprintf("%s-%d", key, j)
			}
		}
		return items
	}
	switch op := rng.IntN(10); {
	case op < batchShare && op%2 == 0: // a batch, not retried
		if rs, err := s.AppendBatch(ctx, batchItems("")); err == nil {
			r.got.add(t, rs...)
			r.batches.Add(1)
		} else {
			fail("batch", err)
		}
	case op < batchShare: // a keyed batch, retried until acknowledged
		items := batchItems(fmt.Sprintf("b%d-%d", w, i))
		for ctx.Err() == nil {
			rs, err := s.AppendBatch(ctx, items)
			if err != nil {
				fail("keyed batch", err)
				r.keyedRetries.Add(1)
				continue
			}
			r.got.add(t, rs...)
			r.batches.Add(1)
			r.got.mu.Lock()
			for j, it := range items {
				r.got.keys[it.Options.IdempotencyKey] = rs[j].ID
			}
			r.got.mu.Unlock()
			return
		}
	case op < batchShare+(10-batchShare)/3: // plain
		if rc, err := s.Append(ctx, coord(), kindStep, i); err == nil {
			r.got.add(t, rc)
		} else {
			fail("append", err)
		}
	case op < batchShare+2*(10-batchShare)/3: // conditional, from what Latest says
		c := coord()
		var next uint64
		if ev, err := s.Latest(ctx, c.Entity()); err == nil {
			next = ev.Sequence + 1
		} else if !errors.Is(err, batpak.ErrNotFound) {
			fail("latest", err)
			return
		}
		rc, err := s.AppendWithOptions(ctx, c, kindStep, i, event.Expect(next))
		switch {
		case err == nil:
			if rc.Sequence != next {
				t.Errorf("conditional append at %d got sequence %d", next, rc.Sequence)
			}
			r.got.add(t, rc)
		case errors.Is(err, batpak.ErrSequenceMismatch):
		default:
			fail("conditional append", err)
		}
	default: // keyed, retried until acknowledged
		key := fmt.Sprintf("w%d-%d", w, i)
		c := coord()
		for ctx.Err() == nil {
			rc, err := s.AppendWithOptions(ctx, c, kindStep, i, event.AppendOptions{IdempotencyKey: key})
			if err != nil {
				fail("keyed append", err)
				r.keyedRetries.Add(1)
				continue
			}
			r.got.add(t, rc)
			r.got.mu.Lock()
			r.got.keys[key] = rc.ID
			r.got.mu.Unlock()
			return
		}
	}
}

// cursorLog is what a cursor delivered.
type cursorLog struct {
	mu          sync.Mutex
	seqs        []uint64 // guarded by mu
	resumes     int
	redelivered int
}

func (l *cursorLog) globals() []uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seqs
}

// readGuaranteed reads every event with a guaranteed cursor, reopening it
// where it stands when asked to and after errors, until it has read up to
// the head stop names.
func (r *faultRun) readGuaranteed(headKnown context.Context, s *jetstream.Store, log *cursorLog, stop *atomic.Uint64) {
	var (
		c      batpak.Cursor
		pos    uint64
		resume = r.resume.Load()
	)
	defer func() {
		if c != nil {
			_ = c.Close()
		}
	}()
	for r.ctx.Err() == nil {
		if h := stop.Load(); h > 0 && pos >= h {
			return
		}
		if c == nil || r.resume.Load() != resume {
			if c != nil {
				_ = c.Close()
				log.resumes++
			}
			resume = r.resume.Load()
			var err error
			if c, err = s.Cursor(event.AllEvents(), pos); err != nil {
				c = nil
				continue
			}
		}
		ctx, cancel := context.WithTimeout(waitCtx(r.ctx, headKnown), 2*time.Second)
		evs, err := c.NextBatch(ctx, 256)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				_ = c.Close()
				c = nil
				log.resumes++
			}
			continue
		}
		log.mu.Lock()
		for _, ev := range evs {
			log.seqs = append(log.seqs, ev.Global)
		}
		log.mu.Unlock()
		pos = evs[len(evs)-1].Global
	}
}

// waitCtx is the context a reader waits for events with: run's until the
// head is known, then run's alone (the reader reads on to the head).
func waitCtx(run, headKnown context.Context) context.Context {
	if headKnown.Err() != nil {
		return run
	}
	return headKnown
}

// readDurable reads every event with a durable cursor, acknowledging each
// batch, reopening it when asked to and after errors: it resumes after
// what it acknowledged, so what came after is delivered again.
func (r *faultRun) readDurable(headKnown context.Context, s *jetstream.Store, log *cursorLog, stop *atomic.Uint64) {
	var (
		c      batpak.DurableCursor
		last   uint64 // the last event recorded
		resume = r.resume.Load()
	)
	defer func() {
		if c != nil {
			_ = c.Close()
		}
	}()
	for r.ctx.Err() == nil {
		if h := stop.Load(); h > 0 && last >= h {
			return
		}
		if c == nil || r.resume.Load() != resume {
			if c != nil {
				_ = c.Close()
				log.resumes++
			}
			resume = r.resume.Load()
			var err error
			if c, err = s.DurableCursor("faults", event.AllEvents()); err != nil {
				c = nil
				continue
			}
		}
		ctx, cancel := context.WithTimeout(waitCtx(r.ctx, headKnown), 2*time.Second)
		evs, err := c.NextBatch(ctx, 256)
		if err == nil {
			err = c.Ack(r.ctx, evs[len(evs)-1].Global)
		}
		waited := ctx.Err() != nil
		cancel()
		if err != nil && !waited {
			_ = c.Close()
			c = nil
			log.resumes++
		}
		log.mu.Lock()
		for _, ev := range evs {
			if ev.Global <= last {
				log.redelivered++ // at-least-once: a repeat of what was not acknowledged
				continue
			}
			log.seqs = append(log.seqs, ev.Global)
			last = ev.Global
		}
		log.mu.Unlock()
	}
}

// checkBatches reads the stored messages' headers and checks that every
// atomic batch is stored whole: its messages at consecutive stream
// sequences, numbered 1, 2, 3… by Nats-Batch-Sequence, the last one
// carrying Nats-Batch-Commit, and no message of a batch elsewhere. It
// reads with ordered consumers of its own, made anew (from where the last
// one stopped) while the cluster settles after the fault.
func checkBatches(ctx context.Context, t *testing.T, c *faultCluster, nc *nats.Conn, stream string, last uint64) {
	js, err := njs.New(nc)
	require.NoError(t, err)
	type open struct {
		id       string
		next     int    // the batch sequence expected next
		prevSeq  uint64 // the stream sequence of its last message
		finished bool
	}
	seen := map[string]bool{}
	var cur *open
	batches := 0
	read := uint64(0)
	var oc njs.Consumer
	c.waitFor("the stream's headers read", func() bool {
		for read < last {
			if oc == nil {
				if oc, err = js.OrderedConsumer(ctx, stream, njs.OrderedConsumerConfig{
					HeadersOnly: true, DeliverPolicy: njs.DeliverByStartSequencePolicy, OptStartSeq: read + 1,
				}); err != nil {
					return false
				}
			}
			mb, err := oc.Fetch(1024, njs.FetchMaxWait(2*time.Second))
			if err != nil {
				oc = nil
				return false
			}
			for m := range mb.Messages() {
				md, err := m.Metadata()
				require.NoError(t, err)
				if md.Sequence.Stream != read+1 {
					break // a gap in delivery: a new consumer reads on from read
				}
				read = md.Sequence.Stream
				id := m.Headers().Get("Nats-Batch-Id")
				if cur != nil && !cur.finished && id != cur.id {
					t.Errorf("batch %s stops at stream sequence %d before its commit", cur.id, cur.prevSeq)
				}
				if id == "" {
					cur = nil
					continue
				}
				var n int
				_, _ = fmt.Sscan(m.Headers().Get("Nats-Batch-Sequence"), &n)
				if cur == nil || cur.id != id || cur.finished {
					if seen[id] {
						t.Errorf("batch %s resumes at stream sequence %d", id, read)
					}
					seen[id] = true
					cur = &open{id: id, next: 1}
					batches++
				}
				if n != cur.next {
					t.Errorf("batch %s: message %d at stream sequence %d, want %d", id, n, read, cur.next)
				}
				cur.next, cur.prevSeq = n+1, read
				cur.finished = m.Headers().Get("Nats-Batch-Commit") != ""
			}
			if mb.Error() != nil {
				oc = nil
				return false
			}
		}
		return true
	})
	if cur != nil && !cur.finished {
		t.Errorf("batch %s ends the stream without its commit", cur.id)
	}
	t.Logf("%d atomic batches stored, each whole", batches)
}
