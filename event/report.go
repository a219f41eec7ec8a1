package event

import (
	"fmt"
	"time"
)

// RecoveryReport says what recovery found when a store was opened.
type RecoveryReport struct {
	Segments int           // segment files read
	Events   int           // events indexed
	Duration time.Duration // time spent recovering
	// Torn is set when the last segment ended in a torn tail that was cut off.
	Torn           bool
	TornSegment    uint64
	TruncatedAt    int64 // offset the segment was truncated to
	TruncatedBytes int64 // bytes cut off
	TornReason     string
	DiscardedBatch bool // the torn tail held an uncommitted batch
	// RemovedSegments lists trailing segment files that held no valid header
	// (a crash while creating them) and were removed.
	RemovedSegments []uint64
	// Checkpoint is set when the index was restored from the checkpoint and
	// only the frames after its watermark were scanned.
	Checkpoint bool
	// CheckpointIgnored says why a checkpoint present was not used (the
	// index was rebuilt by scanning instead).
	CheckpointIgnored string
	// CompactionLeftovers lists files an interrupted compaction left, which
	// recovery removed (or, read-only, ignored): an output never renamed
	// into place, or segments an output in place already replaces.
	CompactionLeftovers []string
	// CompactedSegments counts the segments written by compaction, and
	// RetentionDropped the events their records say retention dropped.
	CompactedSegments int
	RetentionDropped  uint64
	// Footers counts the sealed segments indexed from their footers rather
	// than by decoding their frames.
	Footers int
}

func (r RecoveryReport) String() string {
	s := fmt.Sprintf("%d segments, %d events, recovered in %v", r.Segments, r.Events, r.Duration.Round(time.Microsecond))
	if r.Torn {
		s += fmt.Sprintf("; torn tail of segment %016x cut at offset %d (%d bytes): %s",
			r.TornSegment, r.TruncatedAt, r.TruncatedBytes, r.TornReason)
	}
	if len(r.RemovedSegments) > 0 {
		s += fmt.Sprintf("; removed %d empty trailing segment(s)", len(r.RemovedSegments))
	}
	if r.Checkpoint {
		s += "; index restored from the checkpoint"
	}
	if r.CheckpointIgnored != "" {
		s += "; checkpoint ignored: " + r.CheckpointIgnored
	}
	if len(r.CompactionLeftovers) > 0 {
		s += fmt.Sprintf("; removed %d file(s) left by an interrupted compaction", len(r.CompactionLeftovers))
	}
	return s
}

// VerifyReport is what a store check (Verify) found: counts, and the
// problems located by segment and offset.
type VerifyReport struct {
	Segments       int
	Events         int
	Entities       int
	Bytes          int64
	ChainsVerified int // events whose hash link was checked
	// ChainRestarts counts events whose predecessors were dropped by
	// retention (compaction): their link cannot be checked, and the chain
	// is verified again from them on.
	ChainRestarts int
	// Tombstones counts tombstones written by compaction (CompactOptions.
	// Tombstone), and shredded events whose sealed payload it dropped,
	// whose own hash was taken as stored: it covers the payload they no
	// longer hold. The entity's next event is checked against it as
	// against any predecessor.
	Tombstones int
	// Footers counts the segment footers checked against their segments.
	Footers  int
	Duration time.Duration
	// TornTail is set when the last segment ends in a torn tail (which Open
	// would truncate); it is not a problem. On a store another process is
	// writing, it may be a frame still being written.
	TornTail bool
	// UnusedSegments lists trailing segment files with no valid header and
	// nothing after it: one a writer is creating, or whose creation a crash
	// cut short (Open removes those). They hold no event; not a problem.
	UnusedSegments []uint64
	// Problem is the first damage found, nil if none. Verify stops there
	// unless asked for every problem (batpak verify --all).
	Problem error
	// Problems lists every problem found, in log order: all of them when
	// every problem was asked for, otherwise the first (as Problem).
	Problems []error
}

// AddProblem records a problem found.
func (r *VerifyReport) AddProblem(err error) {
	if r.Problem == nil {
		r.Problem = err
	}
	r.Problems = append(r.Problems, err)
}

// OK reports whether no problem was found.
func (r VerifyReport) OK() bool { return r.Problem == nil }
