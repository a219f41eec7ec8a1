package jetstream

import (
	"context"
	"log/slog"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/react"
	"github.com/batpak-go/batpak/supervisor"
)

// ReactLoop runs reactor over region's events, as batpak.EventStore
// documents: package react's loops over this store's cursors (a durable
// loop over a durable consumer) and atomic batches, restarted at most 3
// times a minute unless batpak.ReactRestart says otherwise. Close stops
// every loop first.
func (s *Store) ReactLoop(ctx context.Context, region batpak.Region, reactor batpak.Reactor, opts ...batpak.ReactOption) (batpak.ReactLoop, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return s.loops.Start(ctx, region, reactor, opts...)
}

func newLoops(s *Store) *react.Loops {
	logger := s.opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	return react.NewLoops(react.Backend{
		Log: s.ProjectionLog(),
		Durable: func(name string, r batpak.Region) (react.DurableFeed, error) {
			return s.DurableCursor(name, r)
		},
		AppendBatch: s.AppendBatch,
	}, react.Options{Logger: logger, Policy: supervisor.Bounded{MaxRestarts: 3, Within: time.Minute}, Closed: batpak.ErrClosed})
}
