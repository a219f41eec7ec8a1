package jetstream

import (
	"context"
	"errors"
	"fmt"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// ErrNotACopy is returned by CopyFrom when the stream holds events that
// are not a copy of the source's first events: it copies only into an
// empty stream, or into one an earlier CopyFrom of the same source filled
// (and nothing else wrote to).
var ErrNotACopy = errors.New("jetstream: the stream is not a copy of the source")

// CopyOptions tune CopyFrom.
type CopyOptions struct {
	// Group, above 1, stores consecutive events of the source, up to
	// Group of them (at most MaxBatch), as one atomic batch: a copy that
	// costs one round trip per group instead of one per event, which on a
	// single server, where every atomic batch is staged in a file store
	// of its own, is the difference between hundreds and thousands of
	// events a second (docs/SCALE-OUT.md). The atomic units become
	// coarser: a source batch is never split, but a reader of the copy
	// (a cursor's NextBatch, a react loop) finds it inside a larger batch,
	// together with events that were appended alone. 0 or 1 keeps every
	// source unit as it was: an event appended alone is stored alone, a
	// batch as one batch.
	Group int
	// Progress, if not nil, is called after each event or batch stored
	// with the events copied so far and the source's global sequence
	// reached.
	Progress func(copied int, global uint64)
}

// CopyReport says what a copy did.
type CopyReport struct {
	// After is the source's global sequence the copy went on from: 0 for
	// a copy from the start, else the source event the stream's last event
	// copies (a resumed copy).
	After uint64
	// Through is the source's head when the copy began: the copy holds the
	// source's events up to it (and, of a source written to meanwhile,
	// maybe a few whole units past it, read with the last of them).
	Through uint64
	// Events and Batches count what this run copied: events, and the
	// atomic batches of two or more events they were stored in.
	Events, Batches int
}

// importer is where a copy writes: *batpak.Importer or *Importer.
type importer interface {
	Append(ctx context.Context, ev batpak.ImportEvent) (batpak.Receipt, error)
	AppendBatch(ctx context.Context, evs []batpak.ImportEvent) ([]batpak.Receipt, error)
}

// CopyFrom copies every event of src (the embedded store being moved to
// the cluster, or another backend) into this stream, in src's global
// order: ids, correlations, causations, kinds, flags, payloads and clock
// readings are kept, each atomic batch of src is stored as one, and each
// entity's events keep their order (their per-entity sequences are the
// stream's: the same as src's for a store nothing was dropped from).
// Global sequences are the stream's. Idempotency keys are not carried.
// A source batch of more than MaxBatch events cannot be stored whole: the
// copy stops before it with an error wrapping batpak.ErrBatchTooLarge.
//
// It is resumable: a copy cut short (a crash, an interrupt, a lost
// connection) is finished by running it again. It reads the stream's last
// event, finds it in src by id and goes on after it, so no event is stored
// twice; a stream whose first or last event is not src's is refused with
// ErrNotACopy. Nothing else may write to the stream until the copy is
// done.
func (s *Store) CopyFrom(ctx context.Context, src batpak.EventStore, opts CopyOptions) (CopyReport, error) {
	var rep CopyReport
	if err := s.check(); err != nil {
		return rep, err
	}
	rep.Through = src.ProjectionLog().Head()
	head, err := s.head(ctx)
	if err != nil {
		return rep, err
	}
	if head > 0 {
		if rep.After, err = s.resumeAfter(ctx, src, head); err != nil {
			return rep, err
		}
	}
	err = copyEvents(ctx, src, &rep, s.Importer(), opts)
	return rep, err
}

// resumeAfter is the source's global sequence of the event the stream's
// last event copies, after checking that the stream's first event is the
// source's first.
func (s *Store) resumeAfter(ctx context.Context, src batpak.EventStore, head uint64) (uint64, error) {
	first, err := s.eventAt(ctx, 1)
	if err != nil {
		return 0, err
	}
	var srcFirst *batpak.StoredEvent
	for ev, err := range src.Query(ctx, event.AllEvents()) {
		if err != nil {
			return 0, err
		}
		srcFirst = ev
		break
	}
	if srcFirst == nil || srcFirst.ID != first.ID {
		return 0, fmt.Errorf("%w: its first event %v is not the source's first", ErrNotACopy, first.ID)
	}
	last, err := s.eventAt(ctx, head)
	if err != nil {
		return 0, err
	}
	ev, err := src.Get(ctx, last.ID)
	if errors.Is(err, batpak.ErrNotFound) {
		return 0, fmt.Errorf("%w: its last event %v (global %d) is not in the source", ErrNotACopy, last.ID, head)
	}
	if err != nil {
		return 0, err
	}
	return ev.Global, nil
}

// copyEvents copies src's events in (rep.After, rep.Through] into dst in
// global order, one atomic unit at a time: a cursor's NextBatch of up to
// opts.Group events never splits a batch, and returns an event appended
// alone, a whole batch, or (Group above 1) consecutive units together.
func copyEvents(ctx context.Context, src batpak.EventStore, rep *CopyReport, dst importer, opts CopyOptions) error {
	if rep.Through <= rep.After {
		return nil
	}
	group := min(max(opts.Group, 1), MaxBatch)
	cur, err := src.Cursor(event.AllEvents(), rep.After)
	if err != nil {
		return err
	}
	defer cur.Close()
	evs := make([]batpak.ImportEvent, 0, min(group, 256))
	for pos := rep.After; pos < rep.Through; {
		unit, err := cur.NextBatch(ctx, group)
		if err != nil {
			return err
		}
		evs = evs[:0]
		for _, ev := range unit {
			evs = append(evs, importOf(ev))
		}
		if len(evs) == 1 {
			_, err = dst.Append(ctx, evs[0])
		} else {
			_, err = dst.AppendBatch(ctx, evs)
		}
		if err != nil {
			return fmt.Errorf("jetstream: copying the events from global %d: %w", unit[0].Global, err)
		}
		if len(evs) > 1 {
			rep.Batches++
		}
		rep.Events += len(unit)
		pos = unit[len(unit)-1].Global
		if opts.Progress != nil {
			opts.Progress(rep.Events, pos)
		}
	}
	return nil
}
