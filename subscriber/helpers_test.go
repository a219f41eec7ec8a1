package subscriber

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
)

var (
	bg       = context.Background()
	kindA    = event.MustCustom(0x1, 0x001)
	kindB    = event.MustCustom(0x1, 0x002)
	errStore = errors.New("test: store closed")
	errLoad  = errors.New("test: load failed")
)

// fakeLog is an index plus an in-memory event table standing in for the
// store's segments: what the writer would publish, without a writer.
type fakeLog struct {
	x    *index.Index
	mu   sync.Mutex
	evs  map[uint64]*event.StoredEvent // guarded by mu; by global sequence
	seqs map[string]uint64             // guarded by mu
	last uint64                        // guarded by mu
	// spans maps each event committed by commitBatch to its batch.
	spans map[uint64]Span // guarded by mu
	fail  atomic.Bool     // Load fails while set
	// loads counts events loaded.
	loads atomic.Int64
}

func newFakeLog() *fakeLog {
	return &fakeLog{x: index.New(), evs: make(map[uint64]*event.StoredEvent), seqs: make(map[string]uint64)}
}

func (f *fakeLog) log() Log { return Log{Index: f.x, Load: f.load, Batch: f.batch} }

// batch is Log.Batch: what commitBatch recorded, else appended alone.
func (f *fakeLog) batch(g uint64, _ Span) (Span, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if sp, ok := f.spans[g]; ok {
		return sp, nil
	}
	return Span{First: g, Last: g}, nil
}

// commitBatch makes one atomic batch visible: an event of kind kindA in
// scope "room:1" for each entity named, all published together.
func (f *fakeLog) commitBatch(entities ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.spans == nil {
		f.spans = make(map[uint64]Span)
	}
	sp := Span{First: f.last + 1, Last: f.last + uint64(len(entities)), Atomic: true}
	pend := make([]index.Pending, len(entities))
	for i, entity := range entities {
		f.last++
		seq := f.seqs[entity]
		f.seqs[entity]++
		id := event.NewID()
		ev := &event.StoredEvent{Coordinate: event.MustCoordinate(entity, "room:1")}
		ev.ID, ev.Correlation, ev.Kind, ev.Global, ev.Sequence = id, id, kindA, f.last, seq
		f.evs[f.last] = ev
		f.spans[f.last] = sp
		pend[i] = index.Pending{ID: id, Entity: entity, Scope: "room:1", Kind: kindA, Global: f.last, Sequence: seq}
	}
	f.x.Publish(pend)
}

func (f *fakeLog) load(es []index.Entry, dst []*event.StoredEvent) error {
	if f.fail.Load() {
		return errLoad
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, e := range es {
		ev := f.evs[e.Global]
		if ev == nil {
			return fmt.Errorf("no event %d", e.Global)
		}
		cp := *ev
		dst[i] = &cp
	}
	f.loads.Add(int64(len(es)))
	return nil
}

// commit makes n events of entity@scope visible in the index and returns
// their notifications, as the fsync actor would hand them to Publish.
func (f *fakeLog) commit(n int, entity, scope string, kind event.EventKind) []event.Notification {
	f.mu.Lock()
	defer f.mu.Unlock()
	coord := event.MustCoordinate(entity, scope)
	pend := make([]index.Pending, n)
	notes := make([]event.Notification, n)
	for i := range n {
		f.last++
		seq := f.seqs[entity]
		f.seqs[entity]++
		id := event.NewID()
		ev := &event.StoredEvent{Coordinate: coord}
		ev.ID, ev.Correlation, ev.Kind, ev.Global, ev.Sequence = id, id, kind, f.last, seq
		f.evs[f.last] = ev
		pend[i] = index.Pending{ID: id, Entity: entity, Scope: scope, Kind: kind, Global: f.last, Sequence: seq}
		notes[i] = ev.Notification()
	}
	f.x.Publish(pend)
	return notes
}

// skip burns n global sequences without events (a restarted writer never
// reuses the numbers it handed out before a crash).
func (f *fakeLog) skip(n uint64) {
	f.mu.Lock()
	f.last += n
	f.mu.Unlock()
}

// testHub is a hub over a fake log whose store "closes" with errStore.
type testHub struct {
	*Hub
	log    *fakeLog
	donec  chan struct{}
	closed atomic.Bool
}

func newTestHub(t testing.TB, mailbox int) *testHub {
	th := &testHub{log: newFakeLog(), donec: make(chan struct{})}
	th.Hub = New(Options{
		Log:  th.log.log(),
		Done: th.donec,
		Closed: func() error {
			if th.closed.Load() {
				return errStore
			}
			return nil
		},
		Stopped: func() error { return errStore },
		Mailbox: mailbox,
	})
	return th
}

// run runs the fan-out actor until the returned stop is called; stop
// waits for it to return, then closes the hub as the store would.
func (th *testHub) run(t testing.TB) (stop func()) {
	ctx, cancel := context.WithCancel(bg)
	done := make(chan error, 1)
	go func() { done <- th.Fanout().Serve(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
			th.closed.Store(true)
			close(th.donec)
			th.Close()
		})
	}
	t.Cleanup(stop)
	return stop
}

// publish commits n events and hands them to the fan-out.
func (th *testHub) publish(n int, entity, scope string, kind event.EventKind) []event.Notification {
	notes := th.log.commit(n, entity, scope, kind)
	th.Publish(notes)
	return notes
}

// drain takes everything buffered in l without waiting.
func drain(l *Lossy) []event.Notification {
	var out []event.Notification
	for {
		n, ok := l.pop()
		if !ok {
			return out
		}
		out = append(out, n)
	}
}

// pub wraps notes as the fan-out's publication.
func pub(notes []event.Notification) *noteBatch { return &noteBatch{notes: notes} }

func globals(notes []event.Notification) []uint64 {
	out := make([]uint64, len(notes))
	for i, n := range notes {
		out[i] = n.Global
	}
	return out
}

// checkRun fails unless gs is exactly first, first+1, ..., first+n-1.
func checkRun(t testing.TB, what string, gs []uint64, first uint64, n int) {
	t.Helper()
	if len(gs) != n {
		t.Fatalf("%s: got %d events, want %d", what, len(gs), n)
	}
	for i, g := range gs {
		if g != first+uint64(i) {
			t.Fatalf("%s: event %d has global %d, want %d (gap or duplicate)", what, i, g, first+uint64(i))
		}
	}
}

var discard = slog.New(slog.DiscardHandler)
