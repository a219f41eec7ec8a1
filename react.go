package batpak

import (
	"context"

	"github.com/batpak-go/batpak/react"
)

// React loops are package react's, the same on every backend.
type (
	// Reactor derives events from one event; see react.Reactor.
	Reactor = react.Reactor
	// ReactLoop is a running react loop; see react.Loop.
	ReactLoop = react.Loop
	// ReactOption configures ReactLoop.
	ReactOption = react.Option
)

// ReactFrom starts the loop after global sequence pos (0: from the first
// event) instead of at the events that become visible after ReactLoop.
func ReactFrom(pos uint64) ReactOption { return react.From(pos) }

// ReactDurable runs the loop over the durable cursor called name: it starts
// after the cursor's acknowledged position and acknowledges what it has
// handled as it goes, so a loop started with the same name after a restart
// or a crash resumes there (reacting at least once to every event).
func ReactDurable(name string) ReactOption { return react.Durable(name) }

// ReactRestart sets the loop's restart policy (default the store's, see
// WithRestartPolicy). Past it, the loop ends and Err reports why; the store
// runs on.
func ReactRestart(p RestartPolicy) ReactOption { return react.Restart(p.supervised()) }

// ReactLoop runs reactor over region's events under a supervisor, one event
// at a time in global order, appending what it derives as one atomic batch
// of reactions to the event (see Reactor). It returns at once; the loop
// runs until ctx ends, its Stop is called, the store closes (Close stops
// every loop before anything else), or its restart policy gives up on it.
// By default it reacts to the events that become visible after it returns;
// see ReactFrom and ReactDurable. Reactions that fall in region are reacted
// to in turn: pick a region (or a reactor) that ends the chain. Delivery is
// at-least-once: a reaction whose receipt was not yet in hand when the loop
// failed or stopped may be appended again when its event is retried.
func (s *Store) ReactLoop(ctx context.Context, region Region, reactor Reactor, opts ...ReactOption) (ReactLoop, error) {
	if _, err := s.liveHub(); err != nil {
		return nil, err
	}
	return s.loops.Start(ctx, region, reactor, opts...)
}

// newLoops is the store's react-loop runner, over its own cursors and
// appends like any backend's.
func newLoops(s *Store) *react.Loops {
	return react.NewLoops(react.Backend{
		Log: s.ProjectionLog(),
		Durable: func(name string, r Region) (react.DurableFeed, error) {
			return s.DurableCursor(name, r)
		},
		AppendBatch: s.AppendBatch,
	}, react.Options{Logger: s.log, Policy: s.cfg.restart.supervised(), Closed: ErrClosed})
}
