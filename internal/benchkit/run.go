package benchkit

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// SelectWorkloads parses an --only list (empty: every workload) and adds
// the workloads the selected ones need, in canonical order.
func SelectWorkloads(workloads []Workload, only string) ([]Workload, error) {
	if strings.TrimSpace(only) == "" {
		return workloads, nil
	}
	want := map[string]bool{}
	for _, id := range strings.Split(only, ",") {
		id = strings.TrimSpace(id)
		i := slices.IndexFunc(workloads, func(w Workload) bool { return strings.EqualFold(w.ID, id) })
		if i < 0 {
			return nil, usagef("--only: unknown workload %q (run with --list to see them)", id)
		}
		want[workloads[i].ID] = true
		for _, need := range workloads[i].Needs {
			want[need] = true
		}
	}
	var sel []Workload
	for _, w := range workloads {
		if want[w.ID] {
			sel = append(sel, w)
		}
	}
	return sel, nil
}

// Result is the median of one figure over the runs that produced it.
type Result struct {
	Workload string
	Metric   string
	Unit     string
	Median   float64
	Min, Max float64 // over the runs
	Runs     int
}

// Run runs every selected workload once per run, in order, so that each
// run's ratios use the references measured in that same run, and returns
// each figure's median, in the order first reported. Progress goes to
// progress.
func Run(ctx context.Context, sel []Workload, base Env, runs int, progress io.Writer) ([]Result, error) {
	type key struct{ workload, metric string }
	values := map[key][]float64{}
	var order []key
	units := map[key]string{}
	for r := 1; r <= runs; r++ {
		env := base
		for _, w := range sel {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			start := time.Now()
			figs, err := w.Run(ctx, &env)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(progress, "bench: %-4s run %d/%d done in %v\n", w.ID, r, runs, time.Since(start).Round(time.Millisecond))
			for _, f := range figs {
				k := key{f.Workload, f.Metric}
				if _, seen := values[k]; !seen {
					order = append(order, k)
					units[k] = f.Unit
				}
				values[k] = append(values[k], f.Value)
			}
		}
	}
	results := make([]Result, 0, len(order))
	for _, k := range order {
		vs := values[k]
		results = append(results, Result{
			Workload: k.workload, Metric: k.metric, Unit: units[k],
			Median: Median(vs), Min: slices.Min(vs), Max: slices.Max(vs), Runs: len(vs),
		})
	}
	return results, nil
}

// Median returns the median of vs (the mean of the middle two for an even
// count). It sorts vs.
func Median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	slices.Sort(vs)
	m := len(vs) / 2
	if len(vs)%2 == 1 {
		return vs[m]
	}
	return (vs[m-1] + vs[m]) / 2
}
