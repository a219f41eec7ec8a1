package batpak

import (
	"context"
	"time"

	"github.com/batpak-go/batpak/compact"
	"github.com/batpak-go/batpak/writer"
)

// CompactOptions says what Compact does.
type CompactOptions struct {
	// Retain decides which events stay (nil: all; Compact then only merges
	// small segments). It sees each event of the sealed segments once, on
	// Compact's goroutine, with its payload but not Hash.Prev. A batch
	// stays whole if Retain keeps any of its events.
	Retain func(*StoredEvent) bool
	// Tombstone picks, among the events Retain keeps, those that lose their
	// payload (nil: none): each stays in place — id, coordinate, sequences,
	// timestamps, correlation, causation, flags, idempotency key — with kind
	// KindTombstone and an empty raw payload, so sequences, cursors and the
	// entity's later chain are untouched (batpak-rust's Tombstone strategy).
	// It sees events as Retain does, but for tombstones already.
	Tombstone func(*StoredEvent) bool
	// TargetSize bounds the kept bytes of one merged segment: consecutive
	// sealed segments are merged while what they keep fits (default: the
	// store's segment size).
	TargetSize int64
}

// CompactReport says what Compact did.
type CompactReport struct {
	SegmentsRead    int   // sealed segments examined
	SegmentsWritten int   // files written, each replacing one or more segments
	SegmentsRemoved int   // segment files replaced
	EventsKept      int   // events of the rewritten segments kept
	EventsDropped   int   // events dropped by Retain
	Tombstoned      int   // kept events Tombstone turned into tombstones
	Shredded        int   // kept events whose shredded payload was dropped (WithEncryption, Shred)
	BytesBefore     int64 // size of the segments replaced
	BytesAfter      int64 // size of the files replacing them
	Duration        time.Duration
	Finished        time.Time // by the store's clock
}

// Compact merges small sealed segments, drops the events opts.Retain
// rejects and turns those opts.Tombstone picks into tombstones, while
// appends and reads continue; the active segment is never touched. On an
// encrypted store (WithEncryption) it also drops the ciphertext of every
// shredded event it rewrites (the event stays, its payload still
// ErrShredded; Verify counts it with the tombstones), and Retain and
// Tombstone see payloads opened.
//
// Kept events stay byte-identical (ids, sequences, hashes): their
// idempotency keys keep working and an entity's chain stays verifiable
// wherever its events are kept. An entity whose newest events are dropped
// continues after its newest kept event (at sequence 0 if none is kept). A
// tombstone keeps its own chain hash, so the entity's later events still
// hash over it and Verify takes it as stored (counting Tombstones); a retry
// of its idempotency key is ErrDuplicate.
//
// Each group of segments is replaced crash-safely (a crash at any point
// leaves a store that opens with every kept event), and readers see the
// index before or after a rewrite, never a mix; a reader holding entries
// from before finds each event where compaction moved it, and skips one it
// dropped (Get: ErrNotFound). The replaced segments' space comes back when
// Compact returns. docs/FORMAT.md, "Compaction", has the protocol.
func (s *Store) Compact(ctx context.Context, opts CompactOptions) (CompactReport, error) {
	var rep CompactReport
	if err := s.readable(ctx); err != nil {
		return rep, err
	}
	if s.readOnly {
		return rep, ErrReadOnly
	}
	if opts.TargetSize <= 0 {
		opts.TargetSize = s.cfg.w.SegmentSize
	}
	s.maint.Lock()
	defer s.maint.Unlock()
	began := time.Now()
	rules := compact.Rules{Retain: opts.Retain, Tombstone: opts.Tombstone}
	if s.keys != nil {
		rules.Keys = s.keys
	}
	res, err := compact.Run(ctx, compact.Store{
		Files:    compact.Files{FS: s.cfg.fs, Dir: s.dir, Clock: s.cfg.w.Clock},
		Segments: s.segs, Index: s.idx, Sync: s.Sync,
	}, rules, opts.TargetSize)
	rep.SegmentsRead = res.Read
	if out := res.Rewritten; out != nil {
		rep.SegmentsWritten, rep.SegmentsRemoved = out.SegmentsWritten, out.SegmentsRemoved
		rep.EventsKept, rep.EventsDropped, rep.Tombstoned = out.EventsKept, out.EventsDropped, out.Tombstoned
		rep.Shredded = out.Stripped
		rep.BytesBefore, rep.BytesAfter = out.BytesBefore, out.BytesAfter
		if out.Committed() > 0 {
			s.compacted.Store(true)
			s.forget(context.WithoutCancel(ctx), out)
		}
		if out.Tombstoned > 0 {
			// Cursors must not be served the payloads tombstones dropped.
			s.hub.Invalidate()
		}
	}
	if err != nil || rep.SegmentsRead == 0 {
		return rep, err
	}
	rep.Duration, rep.Finished = time.Since(began), s.cfg.w.Clock()
	last := rep
	s.lastCompaction.Store(&last)
	s.metrics.Compactions.Add(1)
	s.metrics.CompactionNanos.Add(int64(rep.Duration))
	s.metrics.CompactionBytesReclaimed.Add(max(rep.BytesBefore-rep.BytesAfter, 0))
	return rep, nil
}

// forget has the writer forget what it cached of the entities that lost
// events to a compaction (their tails and idempotency keys).
func (s *Store) forget(ctx context.Context, out *compact.Rewritten) {
	lost, through := out.Lost()
	if len(lost) == 0 {
		return
	}
	r := writer.NewReload(writer.Reload{Entities: lost, Through: through})
	if err := s.send(ctx, r); err != nil {
		r.Release()
		return // closing or failed: the writer's cache no longer matters
	}
	if res, err := s.await(ctx, r); err == nil {
		res.Release()
	}
}
