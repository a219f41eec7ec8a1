package benchkit

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// ErrUsage is matched by the errors that are the caller's misuse of the
// command line (a flag out of range, an unknown workload); the commands
// exit 2 on them.
var ErrUsage = errors.New("usage error")

type usageError struct{ msg string }

func (e usageError) Error() string        { return e.msg }
func (e usageError) Is(target error) bool { return target == ErrUsage }

// Usagef returns an error matching ErrUsage with the formatted message.
func Usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func usagef(format string, args ...any) error { return Usagef(format, args...) }

// QuickScale shrinks every workload for a smoke run (--quick).
const QuickScale = 0.1

// Options are the flags every bench command shares: batpak bench (the
// embedded store) and batpak-bench-jetstream.
type Options struct {
	Runs  int
	Only  string
	Quick bool
	JSON  bool
	List  bool
	Dir   string
	Scale float64
	Plot  string
	// CPUProfile, if set, is where Execute writes a CPU profile of the
	// workloads it runs (go tool pprof).
	CPUProfile string
}

// Setup is what a bench command runs: its workloads, how the heading names
// the backend, the environment each run starts from (Dir and Scale come
// from the options), and how --plot draws (nil: the command has no --plot).
type Setup struct {
	Workloads []Workload
	Backend   string
	Env       Env
	Plot      func(name string, results []Result, titles map[string]string, heading string) error
}

// Register declares the shared flags on fs; --plot only withPlot.
func (o *Options) Register(fs *flag.FlagSet, withPlot bool) {
	fs.IntVar(&o.Runs, "runs", 0, "run each workload `N` times and report the median (default 3, or 1 with --quick)")
	fs.StringVar(&o.Only, "only", "", "run only these comma-separated `workloads`, e.g. W1,W2 (W0 is added when a ratio needs it)")
	fs.BoolVar(&o.Quick, "quick", false, "shrink every workload about 10× for a smoke run")
	fs.BoolVar(&o.JSON, "json", false, "print one JSON object per figure per line, as BENCH.md's output contract says")
	fs.BoolVar(&o.List, "list", false, "list the workloads and exit")
	fs.StringVar(&o.Dir, "dir", os.TempDir(), "create each workload's temporary `directory` under this one")
	if withPlot {
		fs.StringVar(&o.Plot, "plot", "", "also draw every figure, with its unit and its target, one panel per workload, into `FILE` (.svg or .png)")
	}
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the workloads to `FILE`, for go tool pprof (what bounds a figure)")
	fs.Float64Var(&o.Scale, "scale", 1, "multiply every workload's size by `factor` (on top of --quick); for tests and experiments")
}

// Execute runs the workloads of the setup the options select and writes
// the report to stdout (the table, headed by a line naming the backend, or
// JSON lines), progress to stderr. args are the positional arguments, of
// which there must be none.
func (o *Options) Execute(ctx context.Context, s Setup, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return usagef("unexpected arguments %q", args)
	}
	if o.List {
		for _, w := range s.Workloads {
			fmt.Fprintf(stdout, "%-4s %s\n", w.ID, w.Title)
		}
		return nil
	}
	if o.Scale <= 0 || o.Scale > 100 {
		return usagef("--scale %g outside (0, 100]", o.Scale)
	}
	if o.Runs < 0 {
		return usagef("--runs %d is negative", o.Runs)
	}
	selected, err := SelectWorkloads(s.Workloads, o.Only)
	if err != nil {
		return err
	}
	env := s.Env
	env.Dir, env.Scale = o.Dir, o.Scale
	runs := o.Runs
	if o.Quick {
		env.Scale *= QuickScale
	}
	if runs == 0 {
		runs = 3
		if o.Quick {
			runs = 1
		}
	}
	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	results, err := Run(ctx, selected, env, runs, stderr)
	if err != nil {
		return err
	}
	summary := fmt.Sprintf("median of %d run(s), scale %.3g, %s", runs, env.Scale, Machine())
	heading := s.Backend + ": " + summary
	if o.Plot != "" && s.Plot != nil {
		titles := map[string]string{}
		for _, w := range s.Workloads {
			titles[w.ID] = w.Title
		}
		if err := s.Plot(o.Plot, results, titles, heading); err != nil {
			return err
		}
	}
	if o.JSON {
		return WriteJSON(stdout, results)
	}
	fmt.Fprintf(stdout, "batpak bench (%s): %s\n\n", s.Backend, summary)
	return WriteTable(stdout, results)
}
