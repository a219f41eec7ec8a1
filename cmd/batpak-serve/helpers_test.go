package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/stretchr/testify/require"
)

var (
	bg        = context.Background()
	quiet     = batpak.WithLogger(slog.New(slog.DiscardHandler))
	kindMoved = event.MustCustom(1, 1)
	kindOrder = event.MustCustom(2, 1)
)

// deadline bounds every wait for a process, a page or a browser; a pass
// takes a fraction of it.
const deadline = 60 * time.Second

// workflow is an order's workflow: placed → paid → (shipped, mailed).
type workflow struct {
	placed, paid, shipped, mailed batpak.Receipt
}

// writeWorkflow appends a few players' moves and an order's workflow.
func writeWorkflow(t *testing.T, s *batpak.Store) workflow {
	t.Helper()
	must := func(r batpak.Receipt, err error) batpak.Receipt {
		t.Helper()
		require.NoError(t, err)
		return r
	}
	c := event.MustCoordinate
	for i, p := range []string{"player:alice", "player:bob", "player:alice"} {
		must(s.Append(bg, c(p, "room:hall"), kindMoved, map[string]any{"step": i, "to": "hall"}))
	}
	var w workflow
	w.placed = must(s.Append(bg, c("order:1", "shop"), kindOrder, map[string]any{"step": "placed", "total": 42}))
	w.paid = must(s.AppendReaction(bg, c("payment:1", "shop"), kindOrder, map[string]any{"step": "paid"}, w.placed.Correlation, w.placed.ID))
	w.shipped = must(s.AppendReaction(bg, c("shipping:1", "shop"), kindOrder, map[string]any{"step": "shipped"}, w.placed.Correlation, w.paid.ID))
	w.mailed = must(s.AppendReaction(bg, c("mail:1", "shop"), kindOrder, map[string]any{"step": "mailed"}, w.placed.Correlation, w.paid.ID))
	return w
}

// openWriter opens dir for writing (durably: a read-only follower sees an
// event once its append returned) and closes it when the test ends.
func openWriter(t *testing.T, dir string) *batpak.Store {
	t.Helper()
	s, err := batpak.Open(dir, quiet)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// server is a batpak-serve process.
type server struct {
	cmd  *exec.Cmd
	url  string     // ends in "/"
	done chan error // the exit error, once it exited
	errb *syncBuilder

	stopOnce sync.Once
	exit     error
}

// syncBuilder is a strings.Builder for one writer (the process's stderr)
// and a reader.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuilder) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuilder) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startServer runs batpak-serve on dir on a free loopback port and waits
// for the line that gives its address. It is interrupted when the test
// ends, if the test did not stop it.
func startServer(t *testing.T, dir string, args ...string) *server {
	t.Helper()
	args = append([]string{"--addr", "127.0.0.1:0", "--interval", "20ms"}, args...)
	cmd := exec.Command(binary(t), append(args, dir)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	s := &server{cmd: cmd, done: make(chan error, 1), errb: &syncBuilder{}}
	cmd.Stderr = s.errb
	require.NoError(t, cmd.Start())
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		lines <- line
		_, _ = io.Copy(io.Discard, r)
		s.done <- cmd.Wait()
	}()
	t.Cleanup(func() { s.stop(t) })
	select {
	case line := <-lines:
		_, after, ok := strings.Cut(line, " at http://")
		require.True(t, ok, "first line %q", line)
		addr, _, _ := strings.Cut(after, "/")
		s.url = "http://" + addr + "/"
	case <-time.After(deadline):
		t.Fatalf("batpak-serve said nothing; stderr:\n%s", s.errb.String())
	}
	return s
}

// stop interrupts the server and returns its exit error (nil: status 0).
func (s *server) stop(t *testing.T) error {
	t.Helper()
	s.stopOnce.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case s.exit = <-s.done:
		case <-time.After(deadline):
			_ = s.cmd.Process.Kill()
			s.exit = <-s.done
			t.Errorf("batpak-serve did not stop on SIGINT; stderr:\n%s", s.errb.String())
		}
	})
	return s.exit
}

// fetch GETs url with the given Host header ("" for the URL's).
func fetch(t *testing.T, url, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}
