// Package instrument holds the store's live instruments: histograms and
// counters that the write path updates with an atomic add or two, no lock
// and no allocation, and that Store.Metrics reads into a metrics.Snapshot
// at any moment. The public figures and their meaning are package
// metrics'; this package is how they are kept.
package instrument

import (
	"math/bits"
	"sync/atomic"
	"time"

	"github.com/batpak-go/batpak/metrics"
)

// maxBuckets bounds a histogram's buckets, the overflow included.
const maxBuckets = 32

// Layout says where a histogram's buckets lie: bucket i counts the values
// up to 1<<(Shift+i) (and above the bucket before), for i < N; bucket N
// counts the rest.
type Layout struct {
	Shift uint8 // the first bound is 1<<Shift
	N     uint8 // bounded buckets; at most maxBuckets-1
}

// The layouts of the store's histograms. metrics/doc.go describes them.
var (
	// Latency: 256 ns to 2^36 ns (about 69 s).
	Latency = Layout{Shift: 8, N: 29}
	// Size: 1 to 2^20 (events per fsync, requests per drain).
	Size = Layout{Shift: 0, N: 21}
)

var (
	latencyBounds = Latency.bounds()
	sizeBounds    = Size.bounds()
)

func (l Layout) bounds() []uint64 {
	b := make([]uint64, l.N)
	for i := range b {
		b[i] = 1 << (uint(l.Shift) + uint(i))
	}
	return b
}

// Histogram counts observations into a Layout's buckets. Any goroutine may
// observe and read at once: every field is atomic. Its zero value is not
// ready; see Init.
type Histogram struct {
	layout Layout
	bounds []uint64 // shared, read-only
	counts [maxBuckets]atomic.Uint64
	sum    atomic.Uint64
}

// Init sets the histogram's layout. Call it before any other method, and
// not again.
func (h *Histogram) Init(l Layout) {
	h.layout = l
	switch l {
	case Latency:
		h.bounds = latencyBounds
	case Size:
		h.bounds = sizeBounds
	default:
		h.bounds = l.bounds()
	}
}

// Observe counts v: two atomic adds.
func (h *Histogram) Observe(v uint64) {
	i := 0
	if v > 1<<h.layout.Shift {
		i = min(bits.Len64(v-1)-int(h.layout.Shift), int(h.layout.N))
	}
	h.counts[i].Add(1)
	h.sum.Add(v)
}

// epoch anchors Now. time.Since of a time holding a monotonic reading
// reads the clock once; time.Now reads it twice (wall and monotonic time),
// and on some virtual machines a clock read costs tens of nanoseconds.
var epoch = time.Now()

// Now is a monotonic clock reading in nanoseconds, for Since.
func Now() int64 { return int64(time.Since(epoch)) }

// Since observes the time elapsed since start (a reading of Now), in
// nanoseconds.
func (h *Histogram) Since(start int64) {
	h.Observe(uint64(max(Now()-start, 0)))
}

// Read returns a snapshot. Observations made while it reads may be counted
// in Sum and not yet in Counts (or the reverse); Count is always the sum
// of Counts, as exporters require.
func (h *Histogram) Read() metrics.Histogram {
	n := int(h.layout.N) + 1
	s := metrics.Histogram{Bounds: h.bounds, Counts: make([]uint64, n)}
	for i := range n {
		c := h.counts[i].Load()
		s.Counts[i] = c
		s.Count += c
	}
	s.Sum = h.sum.Load()
	return s
}

// Set is the instruments of one store. The facade times appends and keeps
// the compaction counters; the writer and the fsync actor feed the rest
// (writer.Config.Metrics).
type Set struct {
	Started time.Time // when counting began (the store's Open)

	AppendDurable, AppendOnWrite Histogram
	Fsync                        Histogram
	EventsPerFsync               Histogram
	DrainRequests                Histogram

	Compactions              atomic.Int64
	CompactionNanos          atomic.Int64
	CompactionBytesReclaimed atomic.Int64
}

// NewSet returns a Set with every histogram ready.
func NewSet() *Set {
	s := &Set{Started: time.Now()}
	s.AppendDurable.Init(Latency)
	s.AppendOnWrite.Init(Latency)
	s.Fsync.Init(Latency)
	s.EventsPerFsync.Init(Size)
	s.DrainRequests.Init(Size)
	return s
}
