package metrics_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/batpak-go/batpak/metrics"
)

func TestQuantileInterpolatesInsideTheBucket(t *testing.T) {
	h := metrics.Histogram{
		Bounds: []uint64{1, 2, 4, 8},
		Counts: []uint64{0, 0, 10, 0, 0}, // ten values in (2, 4]
		Count:  10, Sum: 30,
	}
	assert.InDelta(t, 2.0, h.Quantile(0), 1e-9)
	assert.InDelta(t, 3.0, h.Quantile(0.5), 1e-9)
	assert.InDelta(t, 4.0, h.Quantile(1), 1e-9)
	assert.InDelta(t, 3.0, h.Mean(), 1e-9)
}

func TestQuantileAcrossBucketsAndOverflow(t *testing.T) {
	h := metrics.Histogram{
		Bounds: []uint64{1, 2, 4},
		Counts: []uint64{5, 0, 3, 2}, // 5 at most 1, 3 in (2, 4], 2 above 4
		Count:  10,
	}
	assert.InDelta(t, 1.0, h.Quantile(0.5), 1e-9, "the fifth value closes the first bucket")
	assert.InDelta(t, 2+2*(2.0/3), h.Quantile(0.7), 1e-9)
	assert.InDelta(t, 4.0, h.Quantile(0.99), 1e-9, "in the overflow: the last bound")
	assert.InDelta(t, 4.0, h.Quantile(2), 1e-9, "q is clamped to 1")
}

func TestEmptyHistogram(t *testing.T) {
	var h metrics.Histogram
	assert.Zero(t, h.Quantile(0.5))
	assert.Zero(t, h.Mean())
}
