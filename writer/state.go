package writer

import (
	"fmt"
	"sync/atomic"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
)

// tail is what the writer must know of an entity to append to it.
type tail struct {
	next   uint64   // the sequence the entity's next event gets
	hash   [32]byte // the entity's latest chain hash
	global uint64   // the global sequence of the entity's latest event (0: none)
}

// state is the core's knowledge of the log's end. It is a cache of what
// the log holds: entity tails are loaded lazily from the index (the index
// holds every entity's latest event whenever nothing is in flight), so a
// restarted writer rebuilds it by clearing it once everything handed on
// has been published (core.rederive).
type state struct {
	tails    map[string]*tail
	keys     map[string]keyRef // keys written but perhaps not yet published
	keyFIFO  []keyFIFOEntry    // the same keys in global order, for pruning
	global   uint64            // last global sequence assigned
	reserved uint64            // global sequences up to here are durably reserved
	hlc      event.HLC
	ids      *event.Generator
}

type keyFIFOEntry struct {
	global uint64
	key    string
}

func newState(lastGlobal uint64, lastID event.ID, lastPos event.Position) state {
	s := state{
		tails:  make(map[string]*tail),
		keys:   make(map[string]keyRef),
		global: lastGlobal,
		ids:    event.NewGenerator(lastID),
	}
	s.hlc.Observe(lastPos)
	return s
}

// loadTail returns the entity's tail, loading it from the index on first use.
func (c *core) loadTail(entity string) (*tail, error) {
	if t, ok := c.st.tails[entity]; ok {
		return t, nil
	}
	t := &tail{}
	if e, ok := c.idx.Latest(entity); ok {
		t.next, t.global = e.Sequence+1, e.Global
		if c.hashChain {
			ev, err := c.log.loadEvent(e)
			if err != nil {
				return nil, fmt.Errorf("batpak: loading the tail of %q: %w", entity, err)
			}
			t.hash = ev.Hash.Self
		}
	}
	c.st.tails[entity] = t
	return t, nil
}

// ReceiptOf rebuilds the receipt of a stored event (for idempotent replays).
func ReceiptOf(e *event.StoredEvent) event.Receipt {
	return event.Receipt{
		ID: e.ID, Coordinate: e.Coordinate, Kind: e.Kind, Global: e.Global,
		Sequence: e.Sequence, Position: e.Position, Timestamp: e.Timestamp, Correlation: e.Correlation,
		Causation: e.Causation, Hash: e.Hash.Self, Replayed: true,
	}
}

// sticky holds the first storage error; once set, writes stop for good.
// It is the one cell both actors write: set once, by whichever fails first
// (CompareAndSwap), never cleared, read by both before any write or sync.
type sticky struct{ err atomic.Pointer[error] }

func (s *sticky) set(err error) {
	wrapped := fmt.Errorf("%w: %w", ErrFailStop, err)
	s.err.CompareAndSwap(nil, &wrapped)
}

func (s *sticky) get() error {
	if p := s.err.Load(); p != nil {
		return *p
	}
	return nil
}

// flush is the unit the writer hands to the fsync actor: what one drain
// wrote to one segment file, and who is waiting for it. It has one owner
// at a time: the core while it builds it, the writer's shell while it
// writes it, then — from Writer.handOff on — the fsync actor, or the
// writer itself when it publishes it at once.
type flush struct {
	seg     *activeSegment // set by the shell when it writes the flush
	reqs    []*Request
	pend    []index.Pending
	notes   []event.Notification
	durable bool // some request needs the fsync before its reply
	barrier chan struct{}
}

func (f *flush) reset() {
	f.seg = nil
	clear(f.reqs)
	f.reqs = f.reqs[:0]
	f.pend = f.pend[:0]
	f.notes = f.notes[:0]
	f.durable = false
	f.barrier = nil
}
