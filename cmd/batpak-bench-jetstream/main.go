// Command batpak-bench-jetstream runs the canonical benchmark workloads
// (BENCH.md) on the JetStream backend (module
// github.com/batpak-go/batpak/jetstream): each run starts fresh NATS
// servers in-process, one or a cluster, and binds the backend to them over
// loopback. It is the former "batpak bench --backend jetstream", a module of
// its own so that the batpak command links no NATS server.
//
// Usage:
//
//	batpak-bench-jetstream [--quick] [--only W1,W2] [--json] [--replicas 3] [--sync-always]
//
// It takes the flags of batpak bench (--runs, --only, --quick, --json,
// --list, --dir, --scale; not --plot) and --replicas and --sync-always;
// "batpak bench --compare" compares two runs saved with --json. Exit
// codes: 0 on success, 1 on failure, 2 on a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/batpak-go/batpak/internal/benchkit"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("batpak-bench-jetstream", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o benchkit.Options
	o.Register(fs, false) // no --plot: the chart needs the batpak command's image code
	var srv servers
	fs.IntVar(&srv.replicas, "replicas", 1, "run `N` servers and replicate the stream N times (1 to 5)")
	fs.BoolVar(&srv.syncAlways, "sync-always", false, "the servers fsync every write before acknowledging it")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: batpak-bench-jetstream [flags]\n\n"+
			"Runs the canonical workloads on the JetStream backend over in-process NATS servers.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	err := srv.check()
	if err == nil {
		backend := fmt.Sprintf("jetstream, %d replica(s), sync_always %v", srv.replicas, srv.syncAlways)
		err = o.Execute(ctx, benchkit.Setup{Workloads: srv.workloads(), Backend: backend}, fs.Args(), stdout, stderr)
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, benchkit.ErrUsage):
		fmt.Fprintf(stderr, "batpak-bench-jetstream: %v\n", err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "batpak-bench-jetstream: %v\n", err)
		return exitFailure
	}
}

// check refuses a cluster size the servers cannot form.
func (srv servers) check() error {
	if srv.replicas < 1 || srv.replicas > 5 {
		return benchkit.Usagef("--replicas %d outside 1 to 5", srv.replicas)
	}
	return nil
}
