// Command batpak is the batpak command-line tool.
//
// Usage:
//
//	batpak <command> [flags]
//
// Commands:
//
//	inspect  summarise a store: segments, events, entities, scopes, kinds, recovery
//	verify   check every frame's CRC and every entity's hash chain
//	dump     print events, filtered, as text or JSON lines
//	tail     print the newest events, and with --follow new ones as they arrive
//	graph    draw a workflow's causal graph as Graphviz DOT, SVG or PNG
//	salvage  copy every intact event of a damaged store into a new one, and report what was lost
//	serve    serve the web inspector of a store on loopback, following its writer
//	bench    run the canonical benchmark workloads (docs: BENCH.md)
//	import   import a batpak-rust 0.3.0 store into a batpak-go store (docs/MIGRATING.md)
//	verify-receipt  check signed receipts (JSON) with a store's public key, offline
//	version  print the command's and the library's versions
//
// The inspection commands and serve open the store read-only (batpak.OpenReadOnly):
// they take no lock and work while another process has it open for writing,
// showing what that process has made durable (verify, batpak.VerifyDir,
// also checks the frames it has written and not yet synced).
// Flags may come before or after the store directory.
//
// On a damaged store, inspect, dump and tail go on past the damage: they
// show the intact events (read as salvage reads them), list what they
// skipped on stderr (inspect: on stdout, with the summary) and exit 1.
// salvage only reads the damaged store; it exits 1 when events were lost.
//
// Run "batpak <command> --help" for a command's flags. Exit codes: 0 on
// success, 1 on failure (or problems found: verify, import --verify-only,
// and inspect, dump, tail and salvage on a damaged store), 2 on a usage
// error.
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

// command is one subcommand. To add one, write a function that builds its
// flag set and returns its action, and list it in commands.
type command struct {
	name    string
	args    string // the positional arguments in the usage line, e.g. "DIR"
	summary string
	// flags declares the command's flags on fs and returns the action to
	// run once they are parsed, with the positional arguments left over.
	flags func(fs *flag.FlagSet) action
	// external, if set, names the program that is the command (serve.go):
	// it gets the arguments as given and parses them itself.
	external string
}

// action runs a parsed command. An error wrapped in usageError exits 2,
// any other error 1.
type action func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// commands is the subcommand table, in the order "batpak --help" lists it.
var commands = []command{
	{name: "inspect", args: "DIR", summary: "summarise a store: segments, events, entities, scopes, kinds, recovery", flags: inspectFlags},
	{name: "verify", args: "DIR", summary: "check every frame's CRC and every entity's hash chain", flags: verifyFlags},
	{name: "dump", args: "DIR", summary: "print events, filtered, as text or JSON lines", flags: dumpFlags},
	{name: "tail", args: "DIR", summary: "print the newest events, and with --follow new ones as they arrive", flags: tailFlags},
	{name: "graph", args: "DIR", summary: "draw a workflow's causal graph as Graphviz DOT, SVG or PNG", flags: graphFlags},
	{name: "salvage", args: "SRC DST", summary: "copy every intact event of a damaged store into a new one, and report what was lost", flags: salvageFlags},
	{name: "serve", args: "DIR", summary: "serve the web inspector of a store on loopback, following its writer", external: "batpak-serve"},
	{name: "bench", summary: "run the canonical benchmark workloads and print their figures", flags: benchFlags},
	{name: "import", args: "SRC DST", summary: "import a batpak-rust store (SRC) into a batpak-go store (DST), or check it with --verify-only", flags: importFlags},
	{name: "verify-receipt", args: "[FILE]", summary: "check signed receipts (JSON) with a store's public key, offline", flags: verifyReceiptFlags},
	{name: "version", summary: "print the command's and the library's versions", flags: versionFlags},
}

// usageError marks an error as the caller's misuse of the command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		printUsage(stdout)
		return exitOK
	}
	cmd, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(stderr, "batpak: unknown command %q\n\n", args[0])
		printUsage(stderr)
		return exitUsage
	}
	if cmd.external != "" {
		return runExternal(ctx, cmd, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("batpak "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors and help are printed below, each to its stream
	act := cmd.flags(fs)
	rest, err := parseFlags(fs, args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printCommandUsage(stdout, cmd, fs)
			return exitOK
		}
		fmt.Fprintf(stderr, "batpak %s: %v\n", cmd.name, err)
		printCommandUsage(stderr, cmd, fs)
		return exitUsage
	}
	err = act(ctx, rest, stdout, stderr)
	var uerr usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &uerr), errors.Is(err, benchkit.ErrUsage):
		fmt.Fprintf(stderr, "batpak %s: %v\n", cmd.name, err)
		printCommandUsage(stderr, cmd, fs)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "batpak %s: %v\n", cmd.name, err)
		return exitFailure
	}
}

// parseFlags parses fs's flags wherever they stand among args, so that
// "batpak dump DIR --json" works as "batpak dump --json DIR" does, and
// returns the positional arguments. Everything after "--" is positional.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func printUsage(w io.Writer) {
	fmt.Fprintf(w, "batpak is the command-line tool of the batpak event store.\n\n")
	fmt.Fprintf(w, "Usage:\n\n\tbatpak <command> [flags]\n\nCommands:\n\n")
	for _, c := range commands {
		fmt.Fprintf(w, "\t%-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun \"batpak <command> --help\" for a command's flags.\n\n%s", exitStatusHelp)
}

// exitStatusHelp ends every usage message.
const exitStatusHelp = `Exit status: 0 success; 1 failure, or problems found (verify; import --verify-only;
a damaged store; events lost by salvage); 2 usage error.
`

func printCommandUsage(w io.Writer, cmd command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: batpak %s [flags]", cmd.name)
	if cmd.args != "" {
		fmt.Fprintf(w, " %s", cmd.args)
	}
	fmt.Fprintf(w, "\n\nThe %s command: %s.\n\nFlags:\n", cmd.name, cmd.summary)
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  --%s", f.Name)
		if name != "" {
			fmt.Fprintf(w, " %s", name)
		}
		fmt.Fprintf(w, "\n    \t%s", usage)
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
	fmt.Fprintf(w, "\n%s", exitStatusHelp)
}
