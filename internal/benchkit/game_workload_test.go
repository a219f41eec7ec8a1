package benchkit

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// W9's figures join those TestBenchQuickJSONReportsEveryWorkloadsFigures
// expects of a full run.
func init() {
	wantMetrics["W9"] = []string{"ticks_per_sec", "p50_us", "p99_us", "deliveries_per_sec",
		"ticks_per_sec_max", "p50_us_max", "p99_us_max", "deliveries_per_sec_max", "events_per_sec", "w3_ratio", "lost", "fsync_us"}
}

func TestW9ReportsEveryFigureAndLosesNothing(t *testing.T) {
	env := &Env{Dir: t.TempDir(), Scale: 0.05, FsyncsPerSec: 1000, W3EventsPerSec: 100_000} // 50 players, 5 and 10 ticks
	figs, err := runW9(context.Background(), env)
	require.NoError(t, err)
	got := map[string]float64{}
	for _, f := range figs {
		assert.Equal(t, "W9", f.Workload)
		got[f.Metric] = f.Value
	}
	assert.Len(t, got, len(wantMetrics["W9"]))
	for _, m := range wantMetrics["W9"] {
		v, ok := got[m]
		require.True(t, ok, "no %s figure", m)
		if m == "lost" {
			assert.Zero(t, v, "notifications lost")
		} else {
			assert.Positive(t, v, m)
		}
	}
	assert.LessOrEqual(t, got["ticks_per_sec"], float64(w9Hz), "the throttled phase runs at most at its rate")
	assert.Greater(t, got["deliveries_per_sec"], got["ticks_per_sec"], "each tick's events reach the feeds around them")
	assert.InDelta(t, got["events_per_sec"]/100_000, got["w3_ratio"], 1e-9)
}
