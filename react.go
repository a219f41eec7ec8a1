package batpak

import (
	"context"
	"fmt"

	"github.com/batpak-go/batpak/subscriber"
)

// Reactor derives events from one event. The items it returns are appended
// as one atomic batch of reactions to ev: each with ev's correlation and,
// unless it names a cause of its own, caused by ev. An error or a panic
// fails the loop, which is restarted per its policy and tries ev again.
// A reactor must return once ctx ends: Close waits for it.
type Reactor func(ctx context.Context, ev *StoredEvent) ([]BatchItem, error)

// ReactLoop is a running react loop (see Store.ReactLoop). Position is
// the global sequence of the last event handled; Done is closed when the
// loop has ended for good, and Err then says why (nil after a deliberate
// stop: its context, Stop, the store's Close). Stop ends the loop after the
// event in hand and waits for it, or for ctx. Name is the name it runs
// under (react-N, with ":name" for a durable loop).
type ReactLoop interface {
	Name() string
	Position() uint64
	Done() <-chan struct{}
	Err() error
	Stop(ctx context.Context) error
}

// ReactOption configures ReactLoop.
type ReactOption func(*reactConfig)

type reactConfig struct {
	from    uint64
	fromSet bool
	name    string
	policy  RestartPolicy
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
func ReactRestart(p RestartPolicy) ReactOption {
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
func (s *Store) ReactLoop(ctx context.Context, region Region, reactor Reactor, opts ...ReactOption) (ReactLoop, error) {
	if reactor == nil {
		return nil, fmt.Errorf("%w: nil reactor", ErrInvalidOption)
	}
	rc := reactConfig{policy: s.cfg.restart}
	for _, o := range opts {
		o(&rc)
	}
	if rc.policy.MaxRestarts < 0 {
		return nil, fmt.Errorf("%w: restart policy of %d restarts", ErrInvalidOption, rc.policy.MaxRestarts)
	}
	if _, err := s.liveHub(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	from := rc.from
	if !rc.fromSet {
		from = s.idx.LastGlobal()
	}
	react := func(ctx context.Context, ev *StoredEvent) error {
		items, err := reactor(ctx, ev)
		if err == nil && len(items) > 0 {
			_, err = s.AppendReactionBatch(ctx, ev.Correlation, ev.ID, items)
		}
		return err
	}
	l, err := s.react.Start(ctx, subscriber.ReactSpec{Region: region, From: from, Durable: rc.name, React: react, Policy: rc.policy.supervised()})
	if err != nil {
		return nil, err
	}
	return l, nil
}
