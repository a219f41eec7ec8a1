package react

import (
	"context"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/projector"
	"github.com/batpak-go/batpak/supervisor"
)

// Reactor derives events from one event. The items it returns are appended
// as one atomic batch of reactions to ev: each with ev's correlation and,
// unless it names a cause of its own, caused by ev (event.Reactions). An
// error or a panic fails the loop, which is restarted per its policy and
// tries ev again. A reactor must return once ctx ends: stopping a loop
// waits for it.
type Reactor func(ctx context.Context, ev *event.StoredEvent) ([]event.BatchItem, error)

// Loop is a running react loop. Position is the global sequence of the
// last event handled; Done is closed when the loop has ended for good, and
// Err then says why (nil after a deliberate stop: its context, Stop, the
// store's Close). Stop ends the loop after the event in hand and waits for
// it, or for ctx. Name is the name it runs under (react-N, with ":name" for
// a durable loop).
type Loop interface {
	Name() string
	Position() uint64
	Done() <-chan struct{}
	Err() error
	Stop(ctx context.Context) error
}

// Option configures one loop.
type Option func(*config)

type config struct {
	from    uint64
	fromSet bool
	durable string
	policy  supervisor.Policy
}

// From starts the loop after global sequence pos (0: from the first event)
// instead of at the events that become visible after it starts.
func From(pos uint64) Option { return func(c *config) { c.from, c.fromSet = pos, true } }

// Durable runs the loop over the durable cursor called name: it starts
// after the cursor's acknowledged position and acknowledges what it has
// handled as it goes (at least once for every event, across restarts).
func Durable(name string) Option { return func(c *config) { c.durable = name } }

// Restart sets the loop's restart policy (default the Loops'). Past it the
// loop ends and Err reports why; the store runs on.
func Restart(p supervisor.Policy) Option { return func(c *config) { c.policy = p } }

// Feed is what a loop reads: a cursor of any backend. NextBatch never
// splits an atomic batch (batpak.Cursor).
type Feed = projector.Feed

// DurableFeed is a durable cursor of any backend (batpak.DurableCursor).
type DurableFeed interface {
	Feed
	Ack(ctx context.Context, pos uint64) error
	Acked() uint64
}

// Backend is what the loops of one store need from it.
type Backend struct {
	// Log gives the visible head (where a loop without From starts),
	// cursors (Follow) and the test of an error that ends the store (Final).
	Log projector.Source
	// Durable opens the durable cursor called name on region.
	Durable func(name string, region event.Region) (DurableFeed, error)
	// AppendBatch appends items as one atomic batch.
	AppendBatch func(ctx context.Context, items []event.BatchItem) ([]event.Receipt, error)
}
