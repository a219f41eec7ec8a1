package batpakrust

import (
	"fmt"
	"strings"
)

// Report is what a Scan found. Counts are exact; the lists hold the first
// MaxListed findings of each sort.
type Report struct {
	Segments int   // segment files read
	Bytes    int64 // their total size
	// Events counts the events of the log: plain events and the items of
	// committed batches (what batpak-rust itself shows after recovery).
	Events   int
	Entities int // distinct entities among them
	Batches  int // committed atomic batches
	// SkippedEvents counts the events of batches that never committed
	// (SkippedBatches says which); batpak-rust shows none of them either.
	SkippedEvents  int
	SkippedBatches []SkippedBatch
	SkippedCount   int // batches skipped (SkippedBatches may be cut short)
	// DamagedFrames counts frames that failed their CRC or did not decode,
	// and torn or unreadable stretches of a segment; Damaged locates them.
	DamagedFrames int
	Damaged       []Damage
	// ChainBreaks counts events whose batpak-rust integrity data does not
	// verify: the event hash is not the Blake3 hash of the payload, the
	// prev_hash is not the entity's previous event's hash, or the
	// per-entity sequence skips. The frames themselves passed their CRC,
	// so their events are still read.
	ChainBreaks int
	Chain       []ChainBreak
	// Unhashed counts events written without a hash chain (batpak-rust
	// built without its blake3 feature: all-zero hashes); they are not
	// chain-checked.
	Unhashed int
	// Mismatches counts disagreements between the segments' frames and
	// the derived index data — SIDX footers and index.ckpt. The frames are
	// what is read; a mismatch says the index data is stale or damaged.
	Mismatches      int
	MismatchList    []Mismatch
	FootersChecked  int  // SIDX footers read and compared with the frames
	CheckpointFound bool // index.ckpt was present and decoded
	// CheckpointChecked counts the checkpoint's entries compared with
	// the frames.
	CheckpointChecked int
}

// MaxListed bounds each list of a Report.
const MaxListed = 100

// OK reports whether the store read back whole: nothing damaged, skipped,
// chain-broken or mismatched.
func (r *Report) OK() bool {
	return r.DamagedFrames == 0 && r.SkippedCount == 0 && r.ChainBreaks == 0 && r.Mismatches == 0
}

func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d events on %d entities, %d atomic batches, in %d segments (%d bytes)",
		r.Events, r.Entities, r.Batches, r.Segments, r.Bytes)
	if r.SkippedCount > 0 {
		fmt.Fprintf(&b, "; %d unfinished batches skipped (%d events)", r.SkippedCount, r.SkippedEvents)
	}
	if r.DamagedFrames > 0 {
		fmt.Fprintf(&b, "; %d damaged frames", r.DamagedFrames)
	}
	if r.ChainBreaks > 0 {
		fmt.Fprintf(&b, "; %d hash-chain breaks", r.ChainBreaks)
	}
	if r.Mismatches > 0 {
		fmt.Fprintf(&b, "; %d index mismatches", r.Mismatches)
	}
	if r.Unhashed > 0 {
		fmt.Fprintf(&b, "; %d events without hashes", r.Unhashed)
	}
	return b.String()
}

// SkippedBatch is an atomic batch that never committed.
type SkippedBatch struct {
	Segment  uint64 // where its BEGIN marker is
	Offset   int64
	Declared uint32 // items the BEGIN marker announced
	Found    int    // items read before the batch ended
	Reason   string
}

// Damage is a stretch of a segment that could not be read as frames.
type Damage struct {
	Segment uint64
	Offset  int64
	Bytes   int64
	Cause   string
}

// ChainBreak is an event whose integrity data does not verify.
type ChainBreak struct {
	Segment uint64
	Offset  int64
	ID      string
	Entity  string
	Problem string
}

// Mismatch is a field on which a SIDX footer or index.ckpt disagrees
// with the frame it describes.
type Mismatch struct {
	Source  string // "SIDX" or "index.ckpt"
	Segment uint64
	Offset  int64
	Problem string
}

func (r *Report) addDamage(d Damage) {
	r.DamagedFrames++
	if len(r.Damaged) < MaxListed {
		r.Damaged = append(r.Damaged, d)
	}
}

func (r *Report) addSkipped(s SkippedBatch) {
	r.SkippedCount++
	r.SkippedEvents += s.Found
	if len(r.SkippedBatches) < MaxListed {
		r.SkippedBatches = append(r.SkippedBatches, s)
	}
}

func (r *Report) addChain(c ChainBreak) {
	r.ChainBreaks++
	if len(r.Chain) < MaxListed {
		r.Chain = append(r.Chain, c)
	}
}

func (r *Report) addMismatch(m Mismatch) {
	r.Mismatches++
	if len(r.MismatchList) < MaxListed {
		r.MismatchList = append(r.MismatchList, m)
	}
}
