package benchkit

import (
	"context"
	"testing"
)

// W4 and W5 join the figures TestBenchQuickJSONReportsEveryWorkloadsFigures
// expects of a full run.
func init() {
	wantMetrics["W4"] = []string{"ms_checkpoint", "rss_bytes_per_event", "ms_rebuild", "rss_bytes_per_event_rebuild", "bytes_per_event", "bytes_per_event_checkpoint"}
	wantMetrics["W5"] = []string{"ops_per_sec_get", "ops_per_sec_stream", "ops_per_sec_scope"}
	wantMetrics["W5h"] = []string{"ops_per_sec_stream", "ops_per_sec_scope"}
}

func TestW4OpensWithAndWithoutTheCheckpoint(t *testing.T) {
	env := &Env{Dir: t.TempDir(), Scale: 0.002} // 2,000 events
	figs, err := runW4(context.Background(), env)
	if err != nil {
		t.Fatal(err) // also when an open did not go the way it was meant to
	}
	got := map[string]float64{}
	for _, f := range figs {
		got[f.Metric] = f.Value
	}
	for _, m := range wantMetrics["W4"] {
		if got[m] <= 0 {
			t.Errorf("%s = %v, want a positive figure", m, got[m])
		}
	}
	// The fixture shape takes about 105 bytes an event (docs/FORMAT.md).
	if b := got["bytes_per_event"]; b < 80 || b > 200 {
		t.Errorf("bytes_per_event = %v", b)
	}
}

func TestScopeEvents(t *testing.T) {
	for _, tc := range []struct{ n, scopes, queries, want int }{
		{100_000, 10, 100, 1_000_000},
		{1000, 10, 100, 10_000},
		{15, 10, 10, 15}, // each scope once: every event once
		{15, 10, 20, 30}, // twice
		{15, 10, 5, 10},  // scopes 0–4 of 2 events each
	} {
		if got := scopeEvents(tc.n, tc.scopes, tc.queries); got != tc.want {
			t.Errorf("scopeEvents(%d, %d, %d) = %d, want %d", tc.n, tc.scopes, tc.queries, got, tc.want)
		}
	}
}
