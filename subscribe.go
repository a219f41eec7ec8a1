package batpak

import (
	"context"
	"fmt"
	"iter"
	"maps"
	"path/filepath"
	"sync"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/subscriber"
	"github.com/batpak-go/batpak/supervisor"
)

// cursorDir is the directory, inside the store's, of durable cursor files.
const cursorDir = "cursors"

// subscriptions is the store's subscription side: the hub with its fan-out
// actor (run under the store's supervisor, which stops it last), and a
// supervisor of its own for react loops, so that a reactor that keeps
// failing ends its loop, not the store.
type subscriptions struct {
	hub   *subscriber.Hub
	react *supervisor.Supervisor

	mu    sync.Mutex
	loops map[string]*subscriber.Loop // guarded by mu; by service name
	seq   int                         // guarded by mu; numbers service names
}

// newSubscriptions is called by open once recovery has built the index and
// before the writer exists.
func newSubscriptions(s *Store) *subscriptions {
	x := &subscriptions{loops: make(map[string]*subscriber.Loop)}
	x.hub = subscriber.New(subscriber.Options{
		Log:  subscriber.Log{Index: s.idx, Load: s.loadEntries, Batch: s.batchSpan},
		Done: s.done,
		Closed: func() error {
			if s.closed.Load() {
				return ErrClosed
			}
			return nil
		},
		Stopped: func() error {
			if err := s.failure(); err != nil && !s.closed.Load() {
				return err
			}
			return ErrClosed
		},
		Guard: func(fn func() error) error {
			s.intake.RLock()
			defer s.intake.RUnlock()
			if s.closed.Load() {
				return ErrClosed
			}
			return fn()
		},
		FS:  s.cfg.fs,
		Dir: filepath.Join(s.dir, cursorDir),
	})
	x.react = supervisor.New(supervisor.Options{Logger: s.log, OnEscalate: x.escalate})
	_ = x.react.Start() // a fresh supervisor always starts
	return x
}

// stopLoops stops every react loop; Close calls it first, while the writer
// still takes their reactions.
func (x *subscriptions) stopLoops() error {
	return x.react.Stop(context.Background())
}

// escalate ends a react loop its restart policy gave up on.
func (x *subscriptions) escalate(name string, cause error) {
	x.mu.Lock()
	l := x.loops[name]
	delete(x.loops, name)
	x.mu.Unlock()
	if l != nil {
		l.Fail(cause)
	}
}

// loadEntries reads the events of index entries for cursors and the
// fan-out actor, on the calling goroutine (see reader.RunReader.Fill). An
// event compaction dropped since the entries were taken cannot be
// delivered: the error makes the cursor take fresh entries.
func (s *Store) loadEntries(es []index.Entry, dst []*event.StoredEvent) error {
	rr := s.segs.Runs(s.idx)
	defer rr.Release()
	n, err := rr.Fill(es, dst)
	if err != nil {
		return s.readErr(err)
	}
	for i, ev := range dst[:n] {
		if ev == nil {
			return fmt.Errorf("%w: %w: event %d", subscriber.ErrStale, reader.ErrEventDropped, es[i].Global)
		}
	}
	return nil
}

// SubscribeLossy subscribes to notifications of the events in region that
// become visible (in Durable mode: durable) after it returns. The fan-out
// actor puts each into a buffer of capacity notifications; when the buffer
// is full, notifications are dropped and counted (Dropped), and the writer
// never waits. Read with Recv or range over C; Close when done. Closing the
// store ends the subscription (buffered notifications stay readable).
func (s *Store) SubscribeLossy(region Region, capacity int) (*subscriber.Lossy, error) {
	h, err := s.hub()
	if err != nil {
		return nil, err
	}
	l, err := h.SubscribeLossy(region, capacity)
	if err == nil {
		s.lossy.add(l) // for Diagnostics
	}
	return l, err
}

// hub is the subscription hub; a read-only store has none (no writer
// publishes to it), so its subscription calls return ErrReadOnly.
func (s *Store) hub() (*subscriber.Hub, error) {
	if s.subs == nil {
		return nil, fmt.Errorf("%w: subscriptions and cursors need a writable store", ErrReadOnly)
	}
	return s.subs.hub, nil
}

// Cursor opens a guaranteed-delivery cursor on region, delivering the
// visible events with a global sequence above from (0: all), in global
// order, each exactly once. Next and NextBatch read on the caller's
// goroutine and block, when caught up, until the next event is visible.
// Position is the place to resume from; Close the cursor when done.
func (s *Store) Cursor(region Region, from uint64) (*subscriber.Cursor, error) {
	h, err := s.hub()
	if err != nil {
		return nil, err
	}
	return h.Cursor(region, from)
}

// CatchUp is the catch-up subscription: it yields region's events with a
// global sequence above from, first the history and then, without a gap or
// a duplicate at the boundary, each new event as it becomes visible. It
// runs until the loop breaks, ctx ends or the store closes; the error that
// stopped it is yielded last.
func (s *Store) CatchUp(ctx context.Context, region Region, from uint64) iter.Seq2[*StoredEvent, error] {
	return func(yield func(*StoredEvent, error) bool) {
		c, err := s.Cursor(region, from)
		if err != nil {
			yield(nil, err)
			return
		}
		defer c.Close()
		for ev, err := range c.All(ctx) {
			if !yield(ev, err) {
				return
			}
		}
	}
}

// OpenCursor opens the durable cursor called name (letters, digits, '.',
// '_', '-'; see subscriber.ValidCursorName) on region. It resumes after
// the position last acknowledged with Ack, which is kept crash-safely in
// the store's directory (cursors/<name>) and so survives Close and crashes:
// delivery is at-least-once. One cursor of a name may be open at a time.
func (s *Store) OpenCursor(name string, region Region) (*subscriber.DurableCursor, error) {
	h, err := s.hub()
	if err != nil {
		return nil, err
	}
	return h.OpenCursor(name, region)
}

// WaitVisible blocks until the event with global sequence pos is visible to
// queries and cursors (in Durable mode: durable), or ctx ends: read your
// writes for a receipt or position handed over from elsewhere.
func (s *Store) WaitVisible(ctx context.Context, pos uint64) error {
	h, err := s.hub()
	if err != nil {
		return err
	}
	return h.WaitVisible(ctx, pos)
}

// Reactor derives events from one event. The items it returns are appended
// as one atomic batch of reactions to ev: each with ev's correlation and,
// unless it names a cause of its own, caused by ev. An error or a panic
// fails the loop, which is restarted per its policy and tries ev again.
// A reactor must return once ctx ends: Close waits for it.
type Reactor func(ctx context.Context, ev *StoredEvent) ([]BatchItem, error)

// ReactOption configures ReactLoop.
type ReactOption func(*reactConfig)

type reactConfig struct {
	from    uint64
	fromSet bool
	name    string
	policy  supervisor.Policy
}

// ReactFrom starts the loop after global sequence pos (0: from the first
// event) instead of at the events that become visible after ReactLoop.
func ReactFrom(pos uint64) ReactOption {
	return func(c *reactConfig) { c.from, c.fromSet = pos, true }
}

// ReactDurable runs the loop over the durable cursor called name: it starts
// after the cursor's acknowledged position and acknowledges what it has
// handled as it goes, so a loop started with the same name after a restart
// or a crash resumes there (reacting at least once to every event).
func ReactDurable(name string) ReactOption {
	return func(c *reactConfig) { c.name = name }
}

// ReactRestart sets the loop's restart policy (default the store's, see
// WithRestartPolicy). Past it, the loop ends and Err reports why; the store
// runs on.
func ReactRestart(p supervisor.Policy) ReactOption {
	return func(c *reactConfig) { c.policy = p }
}

// ReactLoop runs reactor over region's events under a supervisor, one event
// at a time in global order, appending what it derives as reactions (see
// Reactor). It returns at once; the loop runs until ctx ends, its Stop is
// called, the store closes (Close stops every loop before anything else),
// or its restart policy gives up on it. By default it reacts to the events
// that become visible after it returns; see ReactFrom and ReactDurable.
// Reactions that fall in region are reacted to in turn: pick a region (or
// a reactor) that ends the chain. Delivery is at-least-once: a reaction
// whose receipt was not yet in hand when the loop failed or stopped may be
// appended again when its event is retried.
func (s *Store) ReactLoop(ctx context.Context, region Region, reactor Reactor, opts ...ReactOption) (*subscriber.Loop, error) {
	if reactor == nil {
		return nil, fmt.Errorf("%w: nil reactor", ErrInvalidOption)
	}
	rc := reactConfig{policy: s.cfg.restart}
	for _, o := range opts {
		o(&rc)
	}
	if rc.policy == nil {
		return nil, fmt.Errorf("%w: nil restart policy", ErrInvalidOption)
	}
	if err := s.readable(ctx); err != nil {
		return nil, err
	}
	if _, err := s.hub(); err != nil {
		return nil, err
	}
	react := func(ctx context.Context, ev *StoredEvent) error {
		items, err := reactor(ctx, ev)
		if err != nil || len(items) == 0 {
			return err
		}
		_, err = s.AppendReactionBatch(ctx, ev.Correlation, ev.ID, items)
		return err
	}
	x := s.subs
	x.mu.Lock()
	x.seq++
	svc := fmt.Sprintf("react-%d", x.seq)
	// Forget loops that have ended.
	maps.DeleteFunc(x.loops, func(_ string, l *subscriber.Loop) bool { return isDone(l) })
	x.mu.Unlock()

	var loop *subscriber.Loop
	if rc.name != "" {
		d, err := x.hub.OpenCursor(rc.name, region)
		if err != nil {
			return nil, err
		}
		svc += ":" + rc.name
		loop = subscriber.NewDurableLoop(ctx, svc, d, react)
	} else {
		from := rc.from
		if !rc.fromSet {
			from = s.idx.LastGlobal()
		}
		c, err := x.hub.Cursor(region, from)
		if err != nil {
			return nil, err
		}
		loop = subscriber.NewLoop(ctx, svc, c, react)
	}
	x.mu.Lock()
	x.loops[svc] = loop
	x.mu.Unlock()
	if err := x.react.Add(svc, loop, rc.policy); err != nil {
		x.mu.Lock()
		delete(x.loops, svc)
		x.mu.Unlock()
		loop.Fail(ErrClosed)
		return nil, ErrClosed
	}
	return loop, nil
}

func isDone(l *subscriber.Loop) bool {
	select {
	case <-l.Done():
		return true
	default:
		return false
	}
}
