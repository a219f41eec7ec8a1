package metrics

import "time"

// Snapshot is the store's figures at one moment (Store.Metrics). The
// histograms count since Open; the gauges are read when the snapshot is
// taken; the counters only ever grow between Open and Close.
type Snapshot struct {
	// Since is when the store opened: the histograms and counters count
	// from then (exporters give it as their start or created time).
	Since time.Time

	// AppendDurable and AppendOnWrite are the latencies, in nanoseconds,
	// of blocking writes as their callers see them — from the call to
	// its return, validation and encoding included — by the durability
	// the write was acknowledged with. Every Append, AppendWithOptions,
	// AppendReaction and AppendBatch call that reached the writer counts
	// once (a batch is one observation); pipelined writes (Submit,
	// SubmitBatch) are not timed, since their callers choose when to wait.
	AppendDurable Histogram
	AppendOnWrite Histogram
	// Fsync is the latency, in nanoseconds, of each fsync (or fdatasync)
	// of a segment file: group commits, on-write syncs, and the last sync
	// of a segment sealed by rotation or Close.
	Fsync Histogram
	// EventsPerFsync is how many events each of the fsync actor's syncs
	// made durable (the group commit's size): durable events of the group
	// and on-write events published since the last sync alike.
	EventsPerFsync Histogram
	// DrainRequests is how many requests (appends, batches, syncs) the
	// writer took from its mailbox at once, up to WithMaxDrain: a drain
	// near the bound means callers queue faster than the writer writes.
	DrainRequests Histogram

	// MailboxDepth is the number of requests waiting in the writer's
	// mailbox now, out of MailboxCapacity (WithMailbox); a full mailbox
	// holds callers back.
	MailboxDepth    int
	MailboxCapacity int
	// FsyncQueue is the number of flushes handed to the fsync actor and
	// not yet released (the group being synced included).
	FsyncQueue int
	// Unsynced is the number of on-write events visible but not yet
	// covered by an fsync (0 in Durable mode).
	Unsynced int64
	// LastGlobal is the global sequence of the newest visible event: its
	// rate is the store's event rate.
	LastGlobal uint64

	// LossyDropped is the number of notifications lossy subscriptions
	// dropped for want of room in their buffers, since Open.
	LossyDropped uint64
	// FanoutOverflows counts publications the fan-out actor's mailbox had
	// no room for: the actor read those events back from the index
	// instead (nothing is lost, but subscribers fell behind).
	FanoutOverflows uint64
	// WriterRestarts, FsyncRestarts and FanoutRestarts count the restarts
	// of each actor after a crash, since Open.
	WriterRestarts, FsyncRestarts, FanoutRestarts int

	// Recovery is how long Open took to recover the log (reading the
	// checkpoint or the segments and building the index).
	Recovery time.Duration
	// Compactions counts the Compact calls that finished; CompactionTime
	// is their total duration, and CompactionBytesReclaimed the disk
	// space they gave back (for each, bytes of the segments replaced less
	// bytes of the files replacing them, if more).
	Compactions              int64
	CompactionTime           time.Duration
	CompactionBytesReclaimed int64
}

// Histogram is a snapshot of a histogram with fixed bucket bounds.
type Histogram struct {
	// Bounds are the inclusive upper bounds of the buckets, in the
	// histogram's unit (nanoseconds or a count), ascending; each is twice
	// the one before. The slice is shared: do not change it.
	Bounds []uint64
	// Counts holds one count per bound and, last, the overflow: values
	// above the last bound. len(Counts) == len(Bounds)+1.
	Counts []uint64
	// Count is the number of observations (the sum of Counts), Sum their
	// total.
	Count uint64
	Sum   uint64
}

// Mean is Sum / Count, or 0 with no observations.
func (h Histogram) Mean() float64 {
	if h.Count == 0 {
		return 0
	}
	return float64(h.Sum) / float64(h.Count)
}

// Quantile estimates the value below which a fraction q (0 to 1) of the
// observations lie, interpolating linearly inside the bucket it falls in
// (so to within that bucket's factor of two). An estimate in the overflow
// bucket is the last bound. With no observations it is 0.
func (h Histogram) Quantile(q float64) float64 {
	if h.Count == 0 || len(h.Counts) == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := q * float64(h.Count)
	var below uint64
	for i, c := range h.Counts {
		if c == 0 || float64(below+c) < rank {
			below += c
			continue
		}
		if i == len(h.Bounds) {
			return float64(h.Bounds[i-1])
		}
		lo := 0.0
		if i > 0 {
			lo = float64(h.Bounds[i-1])
		}
		hi := float64(h.Bounds[i])
		return lo + (hi-lo)*(rank-float64(below))/float64(c)
	}
	return float64(h.Bounds[len(h.Bounds)-1])
}
