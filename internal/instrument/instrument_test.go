package instrument

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestObserveCountsEachValueInTheFirstBucketWhoseBoundHoldsIt(t *testing.T) {
	var h Histogram
	h.Init(Latency)
	bounds := h.Read().Bounds
	require.Len(t, bounds, int(Latency.N))
	assert.EqualValues(t, 256, bounds[0])
	assert.EqualValues(t, uint64(1)<<36, bounds[len(bounds)-1])

	for _, tc := range []struct {
		v      uint64
		bucket int
	}{
		{0, 0}, {1, 0}, {256, 0}, // at or below the first bound
		{257, 1}, {512, 1}, // a bound is inclusive
		{513, 2},
		{1 << 20, 12}, {1<<20 + 1, 13},
		{1 << 36, 28}, {1<<36 + 1, 29}, {^uint64(0), 29}, // overflow
	} {
		var one Histogram
		one.Init(Latency)
		one.Observe(tc.v)
		got := one.Read()
		assert.EqualValues(t, 1, got.Counts[tc.bucket], "value %d in bucket %d", tc.v, tc.bucket)
		assert.EqualValues(t, 1, got.Count)
		assert.Equal(t, tc.v, got.Sum)
		if tc.bucket < len(bounds) {
			assert.LessOrEqual(t, tc.v, bounds[tc.bucket])
		}
		if tc.bucket > 0 {
			assert.Greater(t, tc.v, bounds[tc.bucket-1])
		}
	}
}

func TestSizeLayoutStartsAtOne(t *testing.T) {
	var h Histogram
	h.Init(Size)
	for _, v := range []uint64{1, 2, 3, 4, 5, 1 << 20, 1<<20 + 1} {
		h.Observe(v)
	}
	got := h.Read()
	assert.Equal(t, []uint64{1, 2, 4}, got.Bounds[:3])
	assert.Equal(t, []uint64{1, 1, 2, 1}, got.Counts[:4]) // 1 | 2 | 3,4 | 5
	assert.EqualValues(t, 1, got.Counts[20], "2^20 in the last bounded bucket")
	assert.EqualValues(t, 1, got.Counts[21], "above 2^20: the overflow")
	assert.EqualValues(t, 7, got.Count)
}

func TestConcurrentObservationsAreAllCounted(t *testing.T) {
	var h Histogram
	h.Init(Latency)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 1000 {
				h.Observe(uint64(g*1000 + i))
			}
		})
	}
	wg.Wait()
	got := h.Read()
	assert.EqualValues(t, 4000, got.Count)
	assert.EqualValues(t, 4000*3999/2, got.Sum)
}

func TestObserveDoesNotAllocate(t *testing.T) {
	s := NewSet()
	allocs := testing.AllocsPerRun(100, func() {
		s.AppendDurable.Observe(4000)
		s.EventsPerFsync.Observe(8)
	})
	assert.Zero(t, allocs)
}

func BenchmarkObserve(b *testing.B) {
	var h Histogram
	h.Init(Latency)
	for i := 0; b.Loop(); i++ {
		h.Observe(uint64(i))
	}
}

// BenchmarkTimedObservation is what a timed append pays: two clock
// readings and an observation.
func BenchmarkTimedObservation(b *testing.B) {
	var h Histogram
	h.Init(Latency)
	for b.Loop() {
		h.Since(Now())
	}
}
