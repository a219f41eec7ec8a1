// Command batpak-serve serves batpak's web inspector (package inspector)
// for a store on disk, opened read-only: it takes no lock and follows the
// process that writes the store, as the other inspection commands do. It
// is what "batpak serve" runs; it is a command and module of its own so
// that the batpak command links no HTTP server.
//
// Usage:
//
//	batpak serve [--addr 127.0.0.1:7070] [--allow-remote] [--interval 250ms] DIR
//
// It listens on loopback (127.0.0.1:7070) by default and refuses an
// address that is not a loopback one unless --allow-remote is given: the
// inspector has no authentication. On loopback it also refuses requests
// whose Host header names another machine (DNS rebinding). Its first line
// on stdout gives the address it listens on (useful with port 0). It
// serves until interrupted (Ctrl-C, SIGTERM), then ends the live tails
// and exits 0. Exit codes: 0 on success, 1 on failure, 2 on a usage
// error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/inspector"
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

type options struct {
	addr        string
	allowRemote bool
	interval    time.Duration
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := options{addr: "127.0.0.1:7070", interval: 250 * time.Millisecond}
	fs := flag.NewFlagSet("batpak serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.addr, "addr", o.addr, "listen on `HOST:PORT` (port 0 picks a free port)")
	fs.BoolVar(&o.allowRemote, "allow-remote", false,
		"allow an --addr that is not a loopback address: the inspector has no authentication, so anyone who reaches it reads every payload")
	fs.DurationVar(&o.interval, "interval", o.interval, "the live tail looks for new events every `DURATION`")
	usage := func(w io.Writer) {
		fs.SetOutput(w)
		fmt.Fprintf(w, "Usage: batpak serve [flags] DIR\n\n"+
			"Serves the web inspector of the store in DIR, read-only, following the process that writes it.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(w, "\nExit status: 0 success (interrupted); 1 failure; 2 usage error.\n")
	}
	dir, err := parseArgs(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage(stdout)
		return exitOK
	case err != nil:
		fmt.Fprintf(stderr, "batpak serve: %v\n", err)
		usage(stderr)
		return exitUsage
	}
	if err := o.serve(ctx, dir, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "batpak serve: %v\n", err)
		if errors.As(err, new(usageError)) {
			return exitUsage
		}
		return exitFailure
	}
	return exitOK
}

// usageError marks an error as the caller's misuse of the command line.
type usageError struct{ error }

// parseArgs parses the flags wherever they stand and returns the one
// positional argument, the store directory.
func parseArgs(fs *flag.FlagSet, args []string) (string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return "", err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	if len(pos) != 1 {
		return "", fmt.Errorf("want one store directory, got %d arguments: %q", len(pos), pos)
	}
	return pos[0], nil
}

// shutdownWait bounds how long serve waits for requests in flight once
// interrupted.
const shutdownWait = 5 * time.Second

func (o *options) serve(ctx context.Context, dir string, stdout, stderr io.Writer) error {
	host, _, err := net.SplitHostPort(o.addr)
	if err != nil {
		return usageError{fmt.Errorf("--addr %q: %v", o.addr, err)}
	}
	if o.interval <= 0 {
		return usageError{fmt.Errorf("--interval %v is not positive", o.interval)}
	}
	loopback := isLoopback(host)
	if !loopback && !o.allowRemote {
		return usageError{fmt.Errorf("--addr %s is not a loopback address; the inspector has no authentication: "+
			"add --allow-remote to listen there anyway", o.addr)}
	}
	if fi, err := os.Stat(dir); err != nil {
		return err
	} else if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := batpak.OpenReadOnly(dir, batpak.WithLogger(logger))
	if err != nil {
		return err
	}
	defer s.Close()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	in := inspector.New(s, inspector.WithPollInterval(o.interval))
	defer in.Close()
	var h http.Handler = in
	if loopback {
		h = loopbackOnly(in)
	}
	var unused unusedConns
	srv := &http.Server{
		Handler:           h,
		ConnState:         unused.track,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(stderr, "batpak serve: ", 0),
	}
	srv.RegisterOnShutdown(unused.closeAll) // runs once the listener is closed
	fmt.Fprintf(stdout, "batpak serve: the inspector of %s at http://%s/ (read-only; Ctrl-C stops)\n", dir, ln.Addr())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	in.Close() // ends the live tails, which Shutdown would wait for
	sctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// isLoopback reports whether host names only this machine: "localhost"
// or a loopback address ("" and 0.0.0.0 listen on every interface).
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackOnly refuses requests whose Host header names anything but this
// machine: a page of another site whose name an attacker points at
// 127.0.0.1 (DNS rebinding) could otherwise read the inspector through
// the user's own browser.
func loopbackOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host // no port
		}
		if len(host) > 1 && host[0] == '[' && host[len(host)-1] == ']' {
			host = host[1 : len(host)-1]
		}
		if !isLoopback(host) {
			http.Error(w, fmt.Sprintf("batpak serve: host %q is not this machine's loopback address", r.Host), http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}
