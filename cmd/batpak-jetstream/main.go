// Command batpak-jetstream moves batpak stores between the embedded backend
// and NATS JetStream (module github.com/batpak-go/batpak/jetstream), and
// checks and backs up a store's stream. It is a module of its own, so that
// the batpak command links no NATS client.
//
// Usage:
//
//	batpak-jetstream copy [flags] DIR URL       copy the store in DIR into the stream (resumable)
//	batpak-jetstream snapshot [flags] URL DEST  back the stream up into DEST, a new store directory
//	batpak-jetstream verify [flags] URL         check every event of the stream
//
// URL is one or more NATS server URLs, comma-separated. copy keeps each
// event's id, correlation, causation, kind, payload and clock readings,
// every entity's order, and each atomic batch whole (--group N stores up
// to N consecutive events as one batch: many times faster, with coarser
// atomic units); run again after an interruption, it goes on after the
// stream's last event and stores nothing twice. It opens DIR for writing (stop the application that uses
// it first) and creates the stream (--stream, --subject, --replicas) if it
// does not exist; nothing else may write to the stream until it is done.
// snapshot and verify bind to the stream as it is and change nothing; a
// snapshot is checked with "batpak verify" or batpak.VerifySnapshot, and
// restored into a stream with copy. docs/SCALE-OUT.md tells how to move.
//
// Exit codes: 0 on success, 1 on failure (or problems found by verify), 2
// on a usage error.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/jetstream"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

var (
	errUsage    = errors.New("usage")
	errProblems = errors.New("problems found")
)

func usagef(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `Usage:
  batpak-jetstream copy [flags] DIR URL       copy the store in DIR into the stream (resumable)
  batpak-jetstream snapshot [flags] URL DEST  back the stream up into DEST, a new store directory
  batpak-jetstream verify [flags] URL         check every event of the stream

URL is one or more NATS server URLs, comma-separated. Flags of each command: batpak-jetstream CMD -h.
`

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, ok := commands[args[0]]
	if !ok {
		if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			fmt.Fprint(stdout, usage)
			return exitOK
		}
		fmt.Fprintf(stderr, "batpak-jetstream: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	fs := flag.NewFlagSet("batpak-jetstream "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs, args[0] == "copy")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: batpak-jetstream %s\n\nFlags:\n", cmd.args)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	err := cmd.run(ctx, &c, fs.Args(), stdout, stderr)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "batpak-jetstream %s: %v\n", args[0], err)
		fs.Usage()
		return exitUsage
	default:
		fmt.Fprintf(stderr, "batpak-jetstream %s: %v\n", args[0], err)
		return exitFailure
	}
}

type command struct {
	args string
	run  func(ctx context.Context, c *common, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{
	"copy":     {"copy [flags] DIR URL", runCopy},
	"snapshot": {"snapshot [flags] URL DEST", runSnapshot},
	"verify":   {"verify [flags] URL", runVerify},
}

// common are the flags every command takes.
type common struct {
	stream, subject, creds string
	replicas, group        int
	timeout                time.Duration
	asJSON, quiet          bool
}

func (c *common) register(fs *flag.FlagSet, creating bool) {
	fs.StringVar(&c.stream, "stream", "BATPAK", "the JetStream `stream` of the store")
	if creating {
		fs.StringVar(&c.subject, "subject", "evt", "the first `token` of the events' subjects, if the stream is created")
		fs.IntVar(&c.replicas, "replicas", 1, "the stream's replicas, if it is created (`N`: 1 to 5; 3 survives the loss of a server)")
		fs.BoolVar(&c.quiet, "quiet", false, "no progress on stderr")
		fs.IntVar(&c.group, "group", 1, "store up to `N` consecutive events (1 to 1000) as one atomic batch: many times faster, coarser atomic units (a batch is never split)")
	}
	fs.StringVar(&c.creds, "creds", "", "a NATS user credentials `file`")
	fs.DurationVar(&c.timeout, "timeout", 2*time.Second, "the time-out of each JetStream request (each is tried 8 times)")
	fs.BoolVar(&c.asJSON, "json", false, "print the report as one JSON object")
}

// open connects to url and opens the store; bind binds to the stream as it
// is. close closes both.
func (c *common) open(ctx context.Context, url string, bind bool) (s *jetstream.Store, close func(), err error) {
	opts := []nats.Option{nats.Name("batpak-jetstream"), nats.Timeout(c.timeout)}
	if c.creds != "" {
		opts = append(opts, nats.UserCredentials(c.creds))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to %s: %w", url, err)
	}
	s, err = jetstream.Open(ctx, nc, jetstream.Options{
		Stream: c.stream, Subject: c.subject, Replicas: c.replicas, Timeout: c.timeout, Bind: bind,
	})
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return s, func() { _ = s.Close(); nc.Close() }, nil
}

// report prints v as JSON, or text.
func (c *common) report(w io.Writer, v any, text string) error {
	if !c.asJSON {
		_, err := fmt.Fprintln(w, text)
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// copyJSON is copy's --json report.
type copyJSON struct {
	Source  string `json:"source"`
	Stream  string `json:"stream"`
	After   uint64 `json:"resumed_after"`
	Through uint64 `json:"through"`
	Events  int    `json:"events"`
	Batches int    `json:"batches"`
	Seconds string `json:"seconds"`
}

func runCopy(ctx context.Context, c *common, args []string, stdout, stderr io.Writer) error {
	if len(args) != 2 {
		return usagef("want DIR URL (the store to copy and the NATS servers), got %d arguments", len(args))
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	src, err := batpak.Open(args[0], batpak.WithLogger(log))
	if errors.Is(err, batpak.ErrLocked) {
		return fmt.Errorf("%w: stop the application that has %s open first (the copy reads it with a cursor)", err, args[0])
	}
	if err != nil {
		return err
	}
	defer src.Close()
	if c.group < 1 || c.group > jetstream.MaxBatch {
		return usagef("--group %d: want 1 to %d", c.group, jetstream.MaxBatch)
	}
	dst, closeDst, err := c.open(ctx, args[1], false)
	if err != nil {
		return err
	}
	defer closeDst()
	began := time.Now()
	var progress func(int, uint64)
	if !c.quiet {
		next := 10000
		progress = func(copied int, global uint64) {
			if copied >= next {
				fmt.Fprintf(stderr, "copy: %d events, to global %d of %d\n", copied, global, src.Stats().LastGlobal)
				next += 10000
			}
		}
	}
	rep, err := dst.CopyFrom(ctx, src, jetstream.CopyOptions{Group: c.group, Progress: progress})
	if err != nil {
		if ctx.Err() != nil || rep.Events > 0 {
			return fmt.Errorf("stopped after %d events: run the same command again to finish; nothing is copied twice: %w", rep.Events, err)
		}
		return err
	}
	took := time.Since(began)
	text := fmt.Sprintf("copied %d events (%d atomic batches) of %s into stream %s in %s", rep.Events, rep.Batches, args[0], c.stream, took.Round(time.Millisecond))
	if rep.After > 0 {
		text += fmt.Sprintf(", resuming after global %d", rep.After)
	}
	if rep.Events == 0 {
		text = fmt.Sprintf("nothing to copy: stream %s already holds every event of %s (through global %d)", c.stream, args[0], rep.Through)
	}
	return c.report(stdout, copyJSON{Source: args[0], Stream: c.stream, After: rep.After, Through: rep.Through,
		Events: rep.Events, Batches: rep.Batches, Seconds: fmt.Sprintf("%.3f", took.Seconds())}, text)
}

func runSnapshot(ctx context.Context, c *common, args []string, stdout, _ io.Writer) error {
	if len(args) != 2 {
		return usagef("want URL DEST (the NATS servers and a new directory), got %d arguments", len(args))
	}
	s, closeStore, err := c.open(ctx, args[0], true)
	if err != nil {
		return err
	}
	defer closeStore()
	man, err := s.Snapshot(ctx, args[1])
	if err != nil {
		return err
	}
	return c.report(stdout, man, fmt.Sprintf("stream %s backed up into %s: %d events, %d segment files (check it with: batpak verify %s)",
		c.stream, args[1], man.LastGlobal, len(man.Files), args[1]))
}

// verifyJSON is verify's --json report.
type verifyJSON struct {
	Stream   string `json:"stream"`
	Events   int    `json:"events"`
	Entities int    `json:"entities"`
	Last     uint64 `json:"last_global"`
	Problem  string `json:"problem,omitempty"`
}

func runVerify(ctx context.Context, c *common, args []string, stdout, _ io.Writer) error {
	if len(args) != 1 {
		return usagef("want URL (the NATS servers), got %d arguments", len(args))
	}
	s, closeStore, err := c.open(ctx, args[0], true)
	if err != nil {
		return err
	}
	defer closeStore()
	rep, err := s.Verify(ctx)
	if err != nil {
		return err
	}
	v := verifyJSON{Stream: c.stream, Events: rep.Events, Entities: rep.Entities, Last: rep.Last}
	text := fmt.Sprintf("stream %s: %d events of %d entities, through global %d: ok", c.stream, rep.Events, rep.Entities, rep.Last)
	if rep.Problem != nil {
		v.Problem = rep.Problem.Error()
		text = fmt.Sprintf("stream %s: %d events read, through global %d: %v", c.stream, rep.Events, rep.Last, rep.Problem)
	}
	if err := c.report(stdout, v, text); err != nil {
		return err
	}
	if rep.Problem != nil {
		return errProblems
	}
	return nil
}
