package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/natsembed"
)

// TestMain fails the tests if servers or stores leave goroutines behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	kindMoved = event.MustCustom(0x1, 0x001)
	kindSpoke = event.MustCustom(0x1, 0x002)
)

func quiet() batpak.Option { return batpak.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))) }

func server(t *testing.T) *natsembed.Server {
	srv, err := natsembed.Start(natsembed.Options{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(srv.Shutdown)
	return srv
}

// fill writes n rounds of an event appended alone, an atomic batch of two
// and a reaction into a new store in dir, and returns its events.
func fill(t testing.TB, dir string, n int) []*batpak.StoredEvent {
	ctx := context.Background()
	s, err := batpak.Open(dir, quiet(), batpak.WithDurability(batpak.OnWrite))
	require.NoError(t, err)
	for i := range n {
		c := event.MustCoordinate(fmt.Sprintf("acct:%d", i%3), "bank")
		r, err := s.Append(ctx, c, kindMoved, map[string]int{"n": i})
		require.NoError(t, err)
		_, err = s.AppendBatch(ctx, []batpak.BatchItem{
			{Coord: c, Kind: kindMoved, Payload: []byte("debit")},
			{Coord: event.MustCoordinate("ledger:1", "bank"), Kind: kindSpoke, Payload: []byte("credit"), Cause: event.CauseItem(0)},
		})
		require.NoError(t, err)
		_, err = s.AppendReaction(ctx, c, kindSpoke, "noted", r.Correlation, r.ID)
		require.NoError(t, err)
	}
	var evs []*batpak.StoredEvent
	for ev, err := range s.Query(ctx, event.AllEvents()) {
		require.NoError(t, err)
		evs = append(evs, ev)
	}
	require.NoError(t, s.Close())
	return evs
}

func runCmd(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestCopySnapshotVerify copies a store into a stream (JSON report),
// copies again (nothing to do), verifies the stream and backs it up: the
// backup holds the store's events, ids, causes and order.
func TestCopySnapshotVerify(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := server(t)
	dir := t.TempDir()
	want := fill(t, dir, 10)

	code, out, errOut := runCmd(t, ctx, "copy", "--json", "--replicas", "1", dir, srv.URL())
	require.Equal(t, exitOK, code, errOut)
	var rep copyJSON
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Equal(t, len(want), rep.Events)
	assert.Equal(t, 10, rep.Batches)
	assert.Zero(t, rep.After)

	code, out, errOut = runCmd(t, ctx, "copy", dir, srv.URL())
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "nothing to copy")

	code, out, errOut = runCmd(t, ctx, "verify", srv.URL())
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, fmt.Sprintf("%d events", len(want)))
	assert.Contains(t, out, ": ok")

	backup := filepath.Join(t.TempDir(), "backup")
	code, out, errOut = runCmd(t, ctx, "snapshot", srv.URL(), backup)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "backed up")
	_, err := batpak.VerifySnapshot(ctx, backup)
	require.NoError(t, err)
	b, err := batpak.OpenReadOnly(backup, quiet())
	require.NoError(t, err)
	defer b.Close()
	i := 0
	for ev, err := range b.Query(ctx, event.AllEvents()) {
		require.NoError(t, err)
		require.Less(t, i, len(want))
		assert.Equal(t, want[i].ID, ev.ID)
		assert.Equal(t, want[i].Causation, ev.Causation)
		assert.Equal(t, want[i].Correlation, ev.Correlation)
		assert.Equal(t, want[i].Payload, ev.Payload)
		i++
	}
	assert.Equal(t, len(want), i)
}

// TestCopyGroup: with --group the copy stores consecutive events as one
// atomic batch, here the whole store as one, and the stream verifies.
func TestCopyGroup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := server(t)
	dir := t.TempDir()
	want := fill(t, dir, 10)

	code, out, errOut := runCmd(t, ctx, "copy", "--json", "--group", "1000", dir, srv.URL())
	require.Equal(t, exitOK, code, errOut)
	var rep copyJSON
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Equal(t, len(want), rep.Events)
	assert.Equal(t, 1, rep.Batches, "every event in one atomic batch")

	code, out, errOut = runCmd(t, ctx, "verify", "--json", srv.URL())
	require.Equal(t, exitOK, code, errOut)
	var v verifyJSON
	require.NoError(t, json.Unmarshal([]byte(out), &v))
	assert.Equal(t, len(want), v.Events)
	assert.Empty(t, v.Problem)
}

// TestCopyResumesAfterAnInterruption: a copy stopped by its context says
// how to finish, and the same command finishes it with every event once.
func TestCopyResumesAfterAnInterruption(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := server(t)
	dir := t.TempDir()
	want := fill(t, dir, 80)

	cut, stop := context.WithCancel(ctx)
	go func() {
		// Interrupt once the stream holds some events: watch it with a
		// cursor of the stream's own, not a timer.
		defer stop()
		nc, err := srv.Connect()
		if !assert.NoError(t, err) {
			return
		}
		defer nc.Close()
		js, err := nc.JetStream()
		if !assert.NoError(t, err) {
			return
		}
		for ctx.Err() == nil {
			if info, err := js.StreamInfo("BATPAK"); err == nil && info.State.Msgs >= 60 {
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Millisecond): // polling the server's count, not timing the result
			}
		}
	}()
	code, _, errOut := runCmd(t, cut, "copy", "--quiet", dir, srv.URL())
	if code == exitOK {
		t.Skip("the copy finished before the interruption: nothing to resume on this machine")
	}
	require.Equal(t, exitFailure, code)
	assert.Contains(t, errOut, "run the same command again")

	code, out, errOut := runCmd(t, ctx, "copy", "--json", dir, srv.URL())
	require.Equal(t, exitOK, code, errOut)
	var rep copyJSON
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.NotZero(t, rep.After)
	code, out, errOut = runCmd(t, ctx, "verify", "--json", srv.URL())
	require.Equal(t, exitOK, code, errOut)
	var v verifyJSON
	require.NoError(t, json.Unmarshal([]byte(out), &v))
	assert.Equal(t, len(want), v.Events, "every event once")
	assert.Empty(t, v.Problem)
}

// TestUsageAndRefusals: wrong arguments are usage errors; a store another
// process holds open, a stream that does not exist and a backup into a
// non-empty directory fail with messages that say why.
func TestUsageAndRefusals(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := server(t)
	for _, args := range [][]string{{}, {"nope"}, {"copy", "onlydir"}, {"snapshot", srv.URL()}, {"verify"},
		{"copy", "--group", "0", t.TempDir(), srv.URL()}, {"copy", "--group", "1001", t.TempDir(), srv.URL()}} {
		code, _, _ := runCmd(t, ctx, args...)
		assert.Equal(t, exitUsage, code, "%q", args)
	}
	dir := t.TempDir()
	fill(t, dir, 1)
	held, err := batpak.Open(dir, quiet())
	require.NoError(t, err)
	code, _, errOut := runCmd(t, ctx, "copy", dir, srv.URL())
	require.NoError(t, held.Close())
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errOut, "stop the application")

	code, _, errOut = runCmd(t, ctx, "verify", "--stream", "MISSING", srv.URL())
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errOut, "no such stream")

	code, _, errOut = runCmd(t, ctx, "copy", dir, srv.URL())
	require.Equal(t, exitOK, code, errOut)
	code, _, errOut = runCmd(t, ctx, "snapshot", srv.URL(), dir) // dir holds the store
	assert.Equal(t, exitFailure, code)
	assert.True(t, strings.Contains(errOut, "not empty"), errOut)
}
