package compact

import (
	"context"
	"fmt"

	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/reader"
)

// Store is what a compaction works on: the store's files, its segments
// and index, and its write barrier.
type Store struct {
	Files
	Segments *reader.Segments
	Index    *index.Index
	// Sync is the store's write barrier: once it returns, every event
	// written so far is in the index, and the writer has pruned what it
	// cached of published events (idempotency keys).
	Sync func(ctx context.Context) error
}

// Result is what Run did.
type Result struct {
	// Read is the number of sealed segments read; 0 means the store had
	// none (only the writer's active segment) and nothing was done.
	Read int
	// Rewritten is what the rewrite did, nil if no group was rewritten.
	// If it committed groups, the caller has the writer forget what
	// Rewritten.Lost names.
	Rewritten *Rewritten
}

// Run runs the three steps (see the package documentation) over the
// sealed segments of s, never the active one: a write barrier, then Read,
// Rewrite and Apply. Whatever the rewrite committed is applied, even if a
// later group failed; ctx ending stops it between groups, but what is on
// disk is applied whatever ctx says. The caller holds the store's
// maintenance lock.
func Run(ctx context.Context, s Store, rules Rules, target int64) (Result, error) {
	var res Result
	live := s.Segments.Live()
	if len(live) < 2 {
		return res, nil // only the active segment
	}
	sealed := live[:len(live)-1] // the newest is the writer's
	// Every event of a sealed segment was written before the next segment
	// was created; after this barrier each is in the index too.
	if err := s.Sync(ctx); err != nil {
		return res, err
	}
	plan, err := Read(ctx, s.Segments, sealed, rules, target)
	if err != nil {
		return res, err
	}
	// The replaced segments close when this run lets go of them.
	defer plan.Release()
	res.Read = len(plan.Segments)
	if len(plan.Groups) == 0 {
		return res, nil
	}
	out, err := s.Files.Rewrite(ctx, plan.Groups)
	res.Rewritten = out
	if out.Committed() > 0 {
		// Before the index rewrite, a barrier: the writer prunes the
		// idempotency keys it cached for published events, so none of a
		// dropped event lingers.
		bctx := context.WithoutCancel(ctx)
		out.Apply(s.Segments, s.Index, func() { _ = s.Sync(bctx) })
	}
	if err != nil {
		return res, fmt.Errorf("batpak: compaction: %w", err)
	}
	return res, nil
}
