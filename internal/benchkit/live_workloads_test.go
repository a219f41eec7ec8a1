package benchkit

import (
	"context"
	"testing"
	"time"
)

// W6, W7 and W8 join the figures TestBenchQuickJSONReportsEveryWorkloadsFigures
// expects of a full run.
func init() {
	wantMetrics["W6"] = []string{"ms_nocache", "ms_cached"}
	wantMetrics["W7"] = []string{"events_per_sec", "events_per_sec_slowest", "lost"}
	wantMetrics["W8"] = []string{"events_per_sec", "events_per_sec_slowest", "events_per_sec_catchup", "gaps"}
}

func TestLiveWorkloadsReportEveryFigureAndLoseNothing(t *testing.T) {
	for _, tc := range []struct {
		id  string
		run func(context.Context, *Env) ([]Figure, error)
	}{{"W6", runW6}, {"W7", runW7}, {"W8", runW8}} {
		t.Run(tc.id, func(t *testing.T) {
			env := &Env{Dir: t.TempDir(), Scale: 0.01} // 1,000 events (W7, W8); 10 projections of 50 (W6)
			figs, err := tc.run(context.Background(), env)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]float64{}
			for _, f := range figs {
				if f.Workload != tc.id {
					t.Errorf("figure %+v of workload %s", f, tc.id)
				}
				got[f.Metric] = f.Value
			}
			for _, m := range wantMetrics[tc.id] {
				v, ok := got[m]
				switch {
				case !ok:
					t.Errorf("no %s figure", m)
				case m == "lost" || m == "gaps":
					if v != 0 {
						t.Errorf("%s = %v, want 0", m, v)
					}
				case v <= 0:
					t.Errorf("%s = %v, want a positive figure", m, v)
				}
			}
			if len(got) != len(wantMetrics[tc.id]) {
				t.Errorf("figures %v, want exactly %v", got, wantMetrics[tc.id])
			}
		})
	}
}

func TestPerConsumerReportsMedianAndSlowest(t *testing.T) {
	med, slowest := perConsumer(100, []time.Duration{time.Second, 4 * time.Second, 2 * time.Second})
	if med != 50 || slowest != 25 {
		t.Errorf("perConsumer = %v, %v; want 50, 25", med, slowest)
	}
}
