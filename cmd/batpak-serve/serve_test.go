package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batpak-go/batpak/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServeFollowsWriter: batpak-serve, a real process on loopback, serves
// the pages of a store this test writes, sees events appended after it
// started, refuses writes and foreign Host headers, and exits 0 on SIGINT.
func TestServeFollowsWriter(t *testing.T) {
	dir := t.TempDir()
	s := openWriter(t, dir)
	w := writeWorkflow(t, s)
	srv := startServer(t, dir)

	status, body := fetch(t, srv.url, "")
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, "read-only")
	status, body = fetch(t, srv.url+"event?id="+w.paid.ID.String(), "")
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, "payment")

	// An event appended now: the next request refreshes the store.
	late, err := s.Append(bg, event.MustCoordinate("late:1", "later"), kindMoved, map[string]any{"late": true})
	require.NoError(t, err)
	status, body = fetch(t, srv.url+"event?id="+late.ID.String(), "")
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, "late:1")

	// Read-only: no method but GET and HEAD.
	resp, err := http.Post(srv.url, "text/plain", strings.NewReader("x"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	// On loopback, a Host header naming another machine is refused (DNS
	// rebinding); loopback names are served.
	status, _ = fetch(t, srv.url, "attacker.example:80")
	assert.Equal(t, http.StatusForbidden, status)
	for _, host := range []string{"localhost", "127.0.0.1", "[::1]:7070", "localhost:1"} {
		status, _ = fetch(t, srv.url, host)
		assert.Equal(t, http.StatusOK, status, host)
	}

	require.NoError(t, srv.stop(t), "exit status; stderr:\n%s", srv.errb.String())
	st := s.Stats()
	assert.Equal(t, late.Global, st.LastGlobal, "the store is as the writer left it")
}

// TestServeLiveTailFollowsWriter: the live tail's stream, served by the
// process, sends an event the writer appends after the stream opened.
func TestServeLiveTailFollowsWriter(t *testing.T) {
	dir := t.TempDir()
	s := openWriter(t, dir)
	writeWorkflow(t, s)
	srv := startServer(t, dir)
	ctx, cancel := context.WithTimeout(bg, deadline)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.url+"tail.sse", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	buf := make([]byte, 4096)
	n, err := resp.Body.Read(buf) // the preamble: the stream is set up
	require.NoError(t, err)
	require.Equal(t, "retry: 2000\n\n", string(buf[:n]))

	late, err := s.Append(bg, event.MustCoordinate("late:2", "later"), kindMoved, "after the stream opened")
	require.NoError(t, err)
	var got bytes.Buffer
	want := fmt.Sprintf("id: %d\n", late.Global)
	for !strings.Contains(got.String(), want) {
		n, err := resp.Body.Read(buf)
		require.NoError(t, err, "read so far:\n%s", got.String())
		got.Write(buf[:n])
	}
	assert.Contains(t, got.String(), `"entity":"late:2"`)
	require.NoError(t, srv.stop(t), "a live tail does not hold up the exit; stderr:\n%s", srv.errb.String())
}

// TestServeUsage: what batpak-serve refuses, and with which status.
func TestServeUsage(t *testing.T) {
	dir := t.TempDir()
	s := openWriter(t, dir)
	writeWorkflow(t, s)
	notStore := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(notStore, "notes.txt"), []byte("hello"), 0o600))

	for _, c := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"help", []string{"--help"}, exitOK, "Usage: batpak serve"},
		{"no directory", nil, exitUsage, "want one store directory"},
		{"two directories", []string{dir, dir}, exitUsage, "want one store directory"},
		{"not loopback", []string{"--addr", "0.0.0.0:0", dir}, exitUsage, "--allow-remote"},
		{"every interface", []string{"--addr", ":0", dir}, exitUsage, "--allow-remote"},
		{"bad address", []string{"--addr", "nowhere", dir}, exitUsage, "--addr"},
		{"bad interval", []string{"--interval", "0s", dir}, exitUsage, "--interval"},
		{"unknown flag", []string{"--port", "1", dir}, exitUsage, "flag provided but not defined"},
		{"missing directory", []string{filepath.Join(dir, "nope")}, exitFailure, "no such file"},
		{"not a store", []string{notStore}, exitFailure, "notes.txt"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(bg, c.args, &out, &errb)
			assert.Equal(t, c.code, code, "stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
			assert.Contains(t, out.String()+errb.String(), c.says)
		})
	}
}

// TestServeInProcess: run serves until its context ends, then returns 0
// having closed the store and the server (goleak checks the rest).
func TestServeInProcess(t *testing.T) {
	dir := t.TempDir()
	s := openWriter(t, dir)
	writeWorkflow(t, s)
	ctx, cancel := context.WithCancel(bg)
	out := &syncBuilder{}
	var errb bytes.Buffer
	code := make(chan int, 1)
	go func() { code <- run(ctx, []string{"--addr", "localhost:0", dir}, out, &errb) }()
	var url string
	for start := time.Now(); url == ""; time.Sleep(time.Millisecond) { // polling its output
		if _, after, ok := strings.Cut(out.String(), " at "); ok {
			url, _, _ = strings.Cut(after, " ")
		}
		select {
		case c := <-code:
			t.Fatalf("run returned %d early: %s", c, errb.String())
		default:
		}
		require.Less(t, time.Since(start), deadline, "run said nothing")
	}
	status, _ := fetch(t, url+"scopes", "")
	assert.Equal(t, http.StatusOK, status)
	cancel()
	assert.Equal(t, exitOK, <-code, errb.String())
}

// TestServeStopsBesideUnusedConnection: an interrupt stops the server at
// once although a client holds a connection it never sent a request on, as
// a browser's preconnected socket does; the server would otherwise wait
// for that socket until its wait for requests in flight ran out, and exit 1.
func TestServeStopsBesideUnusedConnection(t *testing.T) {
	dir := t.TempDir()
	s := openWriter(t, dir)
	writeWorkflow(t, s)
	srv := startServer(t, dir)
	status, _ := fetch(t, srv.url+"entities", "")
	require.Equal(t, http.StatusOK, status)
	conn, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(srv.url, "http://"), "/"))
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, srv.stop(t), "stderr:\n%s", srv.errb.String())
}
