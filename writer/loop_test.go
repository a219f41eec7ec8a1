package writer

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// Tests of the run loops: Serve of both actors, shutdown, restarts and
// escalation. TestMain checks that no goroutine outlives them.

// hangGuard is a deadline for failure, never a timing assertion: what it
// guards either happens at once or never.
const hangGuard = 30 * time.Second

// runActor runs serve in a goroutine, turning a panic into an error as the
// supervisor does; the returned channel gets its result.
func runActor(ctx context.Context, serve func(context.Context) error) <-chan error {
	out := make(chan error, 1)
	go func() {
		var err error
		defer func() {
			if v := recover(); v != nil {
				err = fmt.Errorf("panic: %v", v)
			}
			out <- err
		}()
		err = serve(ctx)
	}()
	return out
}

func within(t *testing.T, c <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-c:
		return err
	case <-time.After(hangGuard):
		t.Fatalf("%s: no result", what)
		return nil
	}
}

func reply(t *testing.T, r *Request) *Request {
	t.Helper()
	select {
	case res := <-r.Reply():
		return res
	case <-time.After(hangGuard):
		t.Fatal("request never answered")
		return nil
	}
}

// An fsync actor that stops for good (escalated by the supervisor) while
// the writer hands it a flush must not leave the writer blocked: the
// writer fails stop, answers the flush's callers and still stops when
// asked.
func TestWriterFailsStopWhenTheFsyncActorStopsWhileItHandsOver(t *testing.T) {
	var armed atomic.Bool
	reached := make(chan struct{}, 1)
	h := newHarness(t, 1<<20, func(c *Config) {
		c.Inject = func(p Point) error {
			if p == PointBeforeHandoff && armed.Load() {
				select {
				case reached <- struct{}{}:
				default:
				}
			}
			return nil
		}
	})
	// The fsync actor took nothing for a while: its queue is full.
	for range fsyncQueueLen {
		h.process(single("a", event.Durable, event.AppendOptions{}))
	}
	require.Len(t, h.f.link.flushc, fsyncQueueLen)

	armed.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	served := runActor(ctx, h.w.Serve)
	r := single("b", event.Durable, event.AppendOptions{})
	require.NoError(t, h.w.Mailbox().Send(ctx, r))
	<-reached     // the writer hands r's flush to the full queue
	close(h.done) // the fsync actor escalated: it will never take it
	res := reply(t, r)
	require.ErrorIs(t, res.Err, ErrFailStop)
	require.ErrorIs(t, res.Err, errFsyncStopped)
	require.ErrorIs(t, h.w.Failure(), errFsyncStopped)

	later := single("c", event.OnWrite, event.AppendOptions{})
	require.NoError(t, h.w.Mailbox().TrySend(later))
	require.ErrorIs(t, reply(t, later).Err, ErrFailStop, "writes go on after the fsync actor stopped")

	cancel()
	require.NoError(t, within(t, served, "writer Serve"))
}

// Close's drain with the fsync actor gone: the final barrier gives up on
// done instead of waiting forever, and the writer fails stop rather than
// sealing as if all were synced.
func TestShutdownGivesUpTheBarrierWhenTheFsyncActorIsGone(t *testing.T) {
	h := newHarness(t, 1<<20)
	r := single("a", event.OnWrite, event.AppendOptions{})
	h.process(r) // published by the writer itself
	require.NoError(t, answer(t, r).Err)
	close(h.done)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, within(t, runActor(ctx, h.w.Serve), "writer Serve"))
	require.ErrorIs(t, h.w.Failure(), errFsyncStopped)
}

// A restarted writer waits until the fsync actor released what it was
// handed; the wait, and the hand-over of its barrier into a full queue,
// give up on the writer's context and on done.
func TestWaitIdleGivesUpOnContextAndDone(t *testing.T) {
	h := newHarness(t, 1<<20)
	for range fsyncQueueLen { // in flight: nobody runs the fsync actor
		h.process(single("a", event.Durable, event.AppendOptions{}))
	}
	require.Equal(t, fsyncQueueLen, h.f.Inflight())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, h.w.link.waitIdle(ctx), context.Canceled)
	require.Equal(t, fsyncQueueLen, h.f.Inflight(), "a barrier never sent is not in flight")
	close(h.done)
	require.ErrorIs(t, h.w.link.waitIdle(context.Background()), errFsyncStopped)
	h.fsyncTurns()
	require.NoError(t, h.w.link.waitIdle(context.Background()))
	require.Zero(t, h.f.Inflight())
}

// Close's drain: the writer processes what was queued up to the drain
// limit, answers the rest with ErrShuttingDown, has the fsync actor sync
// what it handed over, trims the segment and records the exact end of the
// numbering.
func TestShutdownDrainsUpToTheLimitAndRefusesTheRest(t *testing.T) {
	h := newHarness(t, 1<<20, func(c *Config) { c.DrainLimit, c.MaxDrain = 2, 1 })
	var reqs []*Request
	for range 5 {
		r := single("a", event.Durable, event.AppendOptions{})
		require.NoError(t, h.w.Mailbox().TrySend(r))
		reqs = append(reqs, r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	fsyncDone := runActor(ctx, h.f.Serve)
	h.w.shutdown()
	for i, r := range reqs {
		res := reply(t, r)
		if i < 2 {
			require.NoError(t, res.Err, "request %d", i)
			continue
		}
		require.ErrorIs(t, res.Err, ErrShuttingDown, "request %d", i)
	}
	cancel()
	require.NoError(t, within(t, fsyncDone, "fsync Serve"))
	require.NoError(t, h.w.Failure())
	require.Equal(t, 2, h.idx.Len())
	size, err := h.w.seg.file.Size()
	require.NoError(t, err)
	assert.Equal(t, h.w.seg.end, size, "the segment ends at its last record")
	mark, err := ReadReservation(h.fs, "/db")
	require.NoError(t, err)
	assert.Equal(t, uint64(2), mark, "the exact end of the numbering")
}

// A writer that crashes right after a rotation, before anything of the new
// segment was handed on, restarts cutting the new segment back to its
// header — not to where the old segment ended.
func TestRestartAfterARotationCutsOnlyTheNewSegment(t *testing.T) {
	var rotated atomic.Bool
	h := newHarness(t, 1024, func(c *Config) {
		c.Inject = func(p Point) error {
			if p == PointRotate {
				rotated.Store(true)
			}
			if p == PointBeforeWrite && rotated.CompareAndSwap(true, false) {
				panic("boom")
			}
			return nil
		}
	})
	// Stopped in the supervisor's order: the writer, then the fsync actor.
	fctx, fcancel := context.WithCancel(context.Background())
	defer fcancel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fsyncDone := runActor(fctx, h.f.Serve)
	served := runActor(ctx, h.w.Serve)
	payload := strings.Repeat("x", 300)
	var crashed *Request
	for i := 0; crashed == nil; i++ {
		require.Less(t, i, 10, "no rotation")
		r := NewAppend(Item{Coord: event.MustCoordinate("a", "s"), Kind: kind, Payload: []byte(payload)}, event.OnWrite)
		require.NoError(t, h.w.Mailbox().Send(ctx, r))
		res := reply(t, r)
		if res.Err != nil {
			require.ErrorIs(t, res.Err, ErrNotWritten)
			crashed = r
		}
	}
	require.ErrorContains(t, within(t, served, "writer Serve"), "boom")
	require.Equal(t, uint64(2), h.w.seg.id)

	served = runActor(ctx, h.w.Serve) // the supervisor's restart
	probe := single("a", event.OnWrite, event.AppendOptions{})
	require.NoError(t, h.w.Mailbox().Send(ctx, probe))
	res := reply(t, probe)
	require.NoError(t, res.Err)
	e, ok := h.idx.LookupID(res.Receipts[0].ID)
	require.True(t, ok)
	assert.Equal(t, uint32(2), e.Segment)
	assert.Equal(t, uint32(segment.HeaderSize), e.Offset, "the restart left a gap in the new segment")

	cancel()
	require.NoError(t, within(t, served, "writer Serve"))
	fcancel()
	require.NoError(t, within(t, fsyncDone, "fsync Serve"))
}

// syncGate is a file system whose next Sync, once armed, blocks until
// released.
type syncGate struct {
	vfs.FS
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

type gatedFile struct {
	vfs.File
	g *syncGate
}

func (g *syncGate) Create(name string) (vfs.File, error) {
	f, err := g.FS.Create(name)
	if err != nil {
		return nil, err
	}
	return &gatedFile{File: f, g: g}, nil
}

func (f *gatedFile) Sync() error {
	if f.g.armed.CompareAndSwap(true, false) {
		close(f.g.entered)
		<-f.g.release
	}
	return f.File.Sync()
}

// The readers close a segment's file only once the actors are done with
// it (Settled). An on-write fsync that found segment 1 active is still
// syncing its file after the writer rotated to segment 2: segment 1 is not
// settled until that fsync returns.
func TestSettledWaitsForAnOnWriteSyncOfTheOldSegment(t *testing.T) {
	gate := &syncGate{entered: make(chan struct{}), release: make(chan struct{})}
	h := newHarness(t, 1024, func(c *Config) {
		gate.FS = c.FS
		c.FS = gate
	})
	h.process(single("a", event.OnWrite, event.AppendOptions{}))
	require.EqualValues(t, 1, h.f.Unsynced())

	gate.armed.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	fsyncDone := runActor(ctx, h.f.Serve)
	h.w.link.syncc <- struct{}{} // as when SyncEveryN is reached
	<-gate.entered               // the fsync actor syncs segment 1

	big := NewAppend(Item{Coord: event.MustCoordinate("a", "s"), Kind: kind, Payload: []byte(strings.Repeat("x", 1000))}, event.OnWrite)
	h.process(big) // does not fit: the writer rotates
	require.NoError(t, answer(t, big).Err)
	require.Equal(t, uint64(2), h.w.seg.id)
	assert.False(t, h.f.Settled(1), "segment 1 settled while the fsync actor syncs its file")

	close(gate.release)
	cancel()
	require.NoError(t, within(t, fsyncDone, "fsync Serve"))
	assert.True(t, h.f.Settled(1))
	assert.False(t, h.f.Settled(2), "the active segment is never settled")
}

// Flushes of a sealed segment pin it until the fsync actor released them.
func TestSettledWaitsForTheFlushesOfASealedSegment(t *testing.T) {
	h := newHarness(t, 1024)
	held := single("a", event.Durable, event.AppendOptions{})
	h.process(held) // handed over, not yet synced
	big := NewAppend(Item{Coord: event.MustCoordinate("a", "s"), Kind: kind, Payload: []byte(strings.Repeat("x", 1000))}, event.Durable)
	h.process(big)
	require.Equal(t, uint64(2), h.w.seg.id)
	assert.False(t, h.f.Settled(1))
	h.fsyncTurns()
	require.NoError(t, answer(t, held).Err)
	require.NoError(t, answer(t, big).Err)
	assert.True(t, h.f.Settled(1))
}

// On-write flushes handed over while a durable flush is in flight reach
// the fsync actor; when their group needs no fsync the actor publishes
// them without one. They then wait for an fsync as the writer's own
// on-write events do: counted as unsynced, and synced once SyncEveryN of
// them wait.
func TestOnWriteEventsTheFsyncActorPublishesWaitForAnFsync(t *testing.T) {
	for _, tc := range []struct {
		name       string
		syncEveryN int
		unsynced   int64
	}{
		{"below SyncEveryN", 100, 2},
		{"at SyncEveryN", 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 1<<20, func(c *Config) { c.SyncEveryN = tc.syncEveryN })
			d := single("a", event.Durable, event.AppendOptions{})
			h.process(d)
			w1, w2 := single("b", event.OnWrite, event.AppendOptions{}), single("c", event.OnWrite, event.AppendOptions{})
			h.process(w1, w2) // durable work in flight: handed over too

			// The actor takes the durable flush alone, then the on-write one.
			for range 2 {
				h.f.batch = append(h.f.batch[:0], <-h.f.link.flushc)
				h.f.process()
			}
			require.NoError(t, answer(t, d).Err)
			require.NoError(t, answer(t, w1).Err)
			require.NoError(t, answer(t, w2).Err)
			assert.Equal(t, uint64(3), h.idx.LastGlobal())
			assert.Equal(t, tc.unsynced, h.f.Unsynced())
		})
	}
}
