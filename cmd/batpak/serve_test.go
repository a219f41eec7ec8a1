package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/batpak-go/batpak/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sizeBudget bounds the batpak binary as go install builds it: the
// inspection tools, bench with its plots, salvage and import, and no HTTP
// server (that is batpak-serve's).
const sizeBudget = 12_000_000

// buildCommands builds batpak and batpak-serve, as go install would, into
// one directory, and returns it.
func buildCommands(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	for pkg, out := range map[string]string{
		".": "batpak", "github.com/batpak-go/batpak/cmd/batpak-serve": "batpak-serve",
	} {
		b, err := exec.Command("go", "build", "-o", filepath.Join(bin, out), pkg).CombinedOutput()
		require.NoError(t, err, "go build %s:\n%s", pkg, b)
	}
	return bin
}

// TestServeThroughBatpak: "batpak serve", a real process, runs the
// batpak-serve installed beside it with the arguments as given; the
// inspector answers on loopback; SIGINT stops both with status 0. The
// batpak binary keeps within its size budget.
func TestServeThroughBatpak(t *testing.T) {
	bin := buildCommands(t)
	fi, err := os.Stat(filepath.Join(bin, "batpak"))
	require.NoError(t, err)
	assert.LessOrEqual(t, fi.Size(), int64(sizeBudget), "the batpak binary is %d bytes", fi.Size())

	dir := t.TempDir()
	s := openWriter(t, dir)
	defer closeStore(t, s)
	r, err := s.Append(context.Background(), event.MustCoordinate("player:alice", "room:hall"), kindEven, map[string]any{"to": "hall"})
	require.NoError(t, err)
	require.NoError(t, s.Sync(context.Background())) // what a read-only follower shows

	cmd := exec.Command(filepath.Join(bin, "batpak"), "serve", dir, "--addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	lines := make(chan string, 1)
	go func() {
		br := bufio.NewReader(stdout)
		line, _ := br.ReadString('\n')
		lines <- line
		_, _ = io.Copy(io.Discard, br)
		exited <- cmd.Wait()
	}()
	defer func() { _ = cmd.Process.Kill() }()
	var url string
	select {
	case line := <-lines:
		_, after, ok := strings.Cut(line, " at ")
		require.True(t, ok, "first line %q; stderr:\n%s", line, stderr.String())
		url, _, _ = strings.Cut(after, " ")
	case <-time.After(time.Minute):
		t.Fatalf("batpak serve said nothing; stderr:\n%s", stderr.String())
	}
	resp, err := http.Get(url + "event?id=" + r.ID.String())
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Contains(t, string(body), "player:alice")

	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	select {
	case err := <-exited:
		require.NoError(t, err, "exit status; stderr:\n%s", stderr.String())
	case <-time.After(time.Minute):
		t.Fatalf("batpak serve did not stop on SIGINT; stderr:\n%s", stderr.String())
	}
}

// TestServeFindsItsProgram: batpak serve runs batpak-serve from PATH,
// passing on its output and exit status; without it, it says how to
// install it.
func TestServeFindsItsProgram(t *testing.T) {
	bin := buildCommands(t)
	t.Setenv("PATH", bin)
	out, _ := cli(t, exitOK, "serve", "--help")
	assert.Contains(t, out, "Usage: batpak serve")
	_, errOut := cli(t, exitUsage, "serve", "--addr", "0.0.0.0:0", t.TempDir())
	assert.Contains(t, errOut, "--allow-remote")

	t.Setenv("PATH", t.TempDir())
	_, errOut = cli(t, exitFailure, "serve", t.TempDir())
	assert.Contains(t, errOut, "go install github.com/batpak-go/batpak/cmd/batpak-serve@latest")
}
