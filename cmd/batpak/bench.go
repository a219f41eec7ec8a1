package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// benchOptions are the bench command's flags.
type benchOptions struct {
	runs  int
	only  string
	quick bool
	json  bool
	list  bool
	dir   string
	scale float64
	plot  string

	backend    string
	replicas   int
	syncAlways bool
	compare    bool
	syncData   bool
}

// quickScale shrinks every workload for a smoke run.
const quickScale = 0.1

func benchFlags(fs *flag.FlagSet) action {
	var o benchOptions
	fs.IntVar(&o.runs, "runs", 0, "run each workload `N` times and report the median (default 3, or 1 with --quick)")
	fs.StringVar(&o.only, "only", "", "run only these comma-separated `workloads`, e.g. W1,W2 (W0 is added when a ratio needs it)")
	fs.BoolVar(&o.quick, "quick", false, "shrink every workload about 10× for a smoke run")
	fs.BoolVar(&o.json, "json", false, "print one JSON object per figure per line, as BENCH.md's output contract says")
	fs.BoolVar(&o.list, "list", false, "list the workloads and exit")
	fs.StringVar(&o.dir, "dir", os.TempDir(), "create each workload's temporary `directory` under this one")
	fs.StringVar(&o.plot, "plot", "", "also draw every figure, with its unit and its target, one panel per workload, into `FILE` (.svg or .png)")
	fs.StringVar(&o.backend, "backend", "embedded", "the `backend` to measure: embedded (the default store) or jetstream (embedded NATS servers on loopback)")
	fs.IntVar(&o.replicas, "replicas", 1, "with --backend jetstream: run `N` servers and replicate the stream N times")
	fs.BoolVar(&o.syncAlways, "sync-always", false, "with --backend jetstream: the servers fsync every write before acknowledging it")
	fs.BoolVar(&o.compare, "compare", false, "run nothing: print the figures of two runs saved with --json side by side, with ratios (bench --compare A.jsonl B.jsonl)")
	fs.BoolVar(&o.syncData, "sync-data", false, "sync segments with fdatasync where the platform has it (batpak.WithSyncMode(batpak.SyncData)); W0 then measures fdatasync")
	fs.Float64Var(&o.scale, "scale", 1, "multiply every workload's size by `factor` (on top of --quick); for tests and experiments")
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		return o.run(ctx, args, stdout, stderr)
	}
}

func (o *benchOptions) run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if o.compare {
		if len(args) != 2 {
			return usagef("--compare wants two files of bench --json output, A and B; got %d arguments", len(args))
		}
		a, err := readFigures(args[0])
		if err != nil {
			return err
		}
		b, err := readFigures(args[1])
		if err != nil {
			return err
		}
		return compareRuns(stdout, args[0], args[1], a, b)
	}
	if len(args) > 0 {
		return usagef("unexpected arguments %q", args)
	}
	list := workloads
	switch o.backend {
	case "embedded":
		if o.replicas != 1 || o.syncAlways {
			return usagef("--replicas and --sync-always apply to --backend jetstream only")
		}
	case "jetstream":
		list = jetstreamWorkloads
		if o.syncData {
			return usagef("--sync-data applies to --backend embedded only")
		}
		if o.replicas < 1 || o.replicas > 5 {
			return usagef("--replicas %d outside 1 to 5", o.replicas)
		}
	default:
		return usagef("--backend %q: embedded or jetstream", o.backend)
	}
	if o.list {
		for _, w := range list {
			fmt.Fprintf(stdout, "%-4s %s\n", w.ID, w.Title)
		}
		return nil
	}
	if o.scale <= 0 || o.scale > 100 {
		return usagef("--scale %g outside (0, 100]", o.scale)
	}
	if o.runs < 0 {
		return usagef("--runs %d is negative", o.runs)
	}
	if ext := strings.ToLower(filepath.Ext(o.plot)); o.plot != "" && ext != ".svg" && ext != ".png" {
		return usagef("--plot %s: want a .svg or .png file", o.plot)
	}
	selected, err := selectWorkloads(list, o.only)
	if err != nil {
		return err
	}
	env := Env{Dir: o.dir, Scale: o.scale, Replicas: o.replicas, SyncAlways: o.syncAlways, SyncData: o.syncData}
	runs := o.runs
	if o.quick {
		env.Scale *= quickScale
	}
	if runs == 0 {
		runs = 3
		if o.quick {
			runs = 1
		}
	}
	results, err := runBench(ctx, selected, env, runs, stderr)
	if err != nil {
		return err
	}
	backend := o.backend
	if o.syncData {
		backend += ", sync-data (fdatasync)"
	}
	if o.backend == "jetstream" {
		backend = fmt.Sprintf("jetstream, %d replica(s), sync_always %v", o.replicas, o.syncAlways)
	}
	heading := fmt.Sprintf("%s: median of %d run(s), scale %.3g, %s", backend, runs, env.Scale, machine())
	if o.plot != "" {
		titles := map[string]string{}
		for _, w := range list {
			titles[w.ID] = w.Title
		}
		if err := writePlot(o.plot, results, titles, heading); err != nil {
			return err
		}
	}
	if o.json {
		return writeJSON(stdout, results)
	}
	fmt.Fprintf(stdout, "batpak bench (%s): median of %d run(s), scale %.3g, %s\n\n", backend, runs, env.Scale, machine())
	return writeTable(stdout, results)
}

// selectWorkloads parses --only (empty: every workload) and adds the
// workloads the selected ones need, in canonical order.
func selectWorkloads(workloads []Workload, only string) ([]Workload, error) {
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

// runBench runs every selected workload once per run, in order, so that
// each run's ratios use the references measured in that same run, and
// returns each figure's median, in the order first reported. Progress goes
// to progress.
func runBench(ctx context.Context, sel []Workload, base Env, runs int, progress io.Writer) ([]Result, error) {
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
			Median: median(vs), Min: slices.Min(vs), Max: slices.Max(vs), Runs: len(vs),
		})
	}
	return results, nil
}

// median returns the median of vs (the mean of the middle two for an even
// count). It sorts vs.
func median(vs []float64) float64 {
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
