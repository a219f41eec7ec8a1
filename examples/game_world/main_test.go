package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/examples/internal/backend"
	"github.com/batpak-go/batpak/spatial"
)

// childEnv makes the test binary run the command itself (TestMain), so a
// test can crash and kill it as a real process.
const childEnv = "GAME_WORLD_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr))
	}
	goleak.VerifyTestMain(m)
}

// small is a world small enough for tests, crowded enough for contests,
// on the embedded store.
func small(dir string, ticks int) config {
	return config{backend: backend.Embedded, dir: dir, players: 12, chunks: 3, ticks: ticks, hz: 0, seed: 7, every: 1, crashAfter: -1, replay: -1}
}

// smallOn is small on the backend called kind.
func smallOn(kind, dir string, ticks int) config {
	c := small(dir, ticks)
	c.backend = kind
	return c
}

// open opens the store a run on kind left in dir, as a restart does.
func open(t *testing.T, kind, dir string) *backend.Store {
	t.Helper()
	s, err := backend.Open(context.Background(), kind, dir)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func runWorld(t *testing.T, c config) string {
	t.Helper()
	var out strings.Builder
	require.NoError(t, run(context.Background(), c, &out), "%s", out.String())
	return out.String()
}

// child runs the command as a process of its own.
func child(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	return cmd
}

func TestWorldRunsAndAgreesWithAReplay(t *testing.T) {
	for _, kind := range backend.Names {
		t.Run(kind, func(t *testing.T) {
			out := runWorld(t, smallOn(kind, "", 10))
			assert.Contains(t, out, "tick 0 durable: 13 events") // 12 joins and the clock
			assert.Regexp(t, `contested [1-9]\d* \(player:\d+ beat player:\d+`, out, "crowded players race for items")
			assert.Regexp(t, `feeds delivered [1-9]\d* notifications, lost 0`, out)
			assert.Contains(t, out, "check: the live projections agree with a replay from zero")
			assert.Contains(t, out, "tick 9: 12 players")
			t.Logf("\n%s", out)
		})
	}
}

// The crash simulation would take the in-process NATS server down with
// the example: it is refused on JetStream before anything is opened.
func TestWorldCrashAfterIsEmbeddedOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "world")
	c := smallOn(backend.JetStream, dir, 5)
	c.crashAfter = 2
	err := run(context.Background(), c, new(strings.Builder))
	require.ErrorContains(t, err, "-crash-after runs on the embedded store only")
	assert.NoDirExists(t, dir)

	var stdout, stderr strings.Builder
	assert.Equal(t, 1, cli([]string{"-backend", "jetstream", "-dir", dir, "-crash-after", "2"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "game_world: -crash-after runs on the embedded store only")
	assert.Empty(t, stdout.String())
}

var resumed = regexp.MustCompile(`resuming after tick (\d+)`)

func TestWorldResumesAfterACrash(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a process")
	}
	dir := filepath.Join(t.TempDir(), "world")
	out, err := child("-dir", dir, "-players", "12", "-chunks", "3", "-ticks", "30", "-hz", "0", "-seed", "7", "-every", "1", "-crash-after", "7").CombinedOutput()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "%v\n%s", err, out)
	assert.Equal(t, 3, exit.ExitCode(), "%s", out)
	assert.Contains(t, string(out), "crashing after tick 7")
	assert.NotContains(t, string(out), "tick 8 durable")

	again := runWorld(t, small(dir, 5))
	assert.Contains(t, again, "resuming after tick 7 (")
	assert.Contains(t, again, "tick 8 durable")
	assert.Contains(t, again, "check: the live projections agree with a replay from zero")
	assert.Contains(t, again, "tick 12: 12 players")
}

func TestWorldResumesAfterKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a process")
	}
	dir := filepath.Join(t.TempDir(), "world")
	cmd := child("-dir", dir, "-players", "12", "-chunks", "3", "-ticks", "0", "-hz", "0", "-seed", "7", "-every", "1")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := bufio.NewScanner(stdout)
	announced := -1
	for announced < 6 && lines.Scan() {
		if n, ok := strings.CutPrefix(lines.Text(), "tick "); ok {
			announced, _ = strconv.Atoi(strings.Fields(n)[0])
		}
	}
	require.NoError(t, cmd.Process.Kill()) // SIGKILL, mid-tick or between ticks
	_ = cmd.Wait()
	require.GreaterOrEqual(t, announced, 6, "the world never got going")

	again := runWorld(t, small(dir, 3))
	m := resumed.FindStringSubmatch(again)
	require.NotNil(t, m, "%s", again)
	last, _ := strconv.Atoi(m[1])
	assert.GreaterOrEqual(t, last, announced, "an announced tick was durable")
	assert.Contains(t, again, "check: the live projections agree with a replay from zero")
	checkClaimsPicked(t, open(t, backend.Embedded, dir))
}

// A tick cut short after its contests, before its batch: the replayed
// tick settles every contest the way the log already has it, and every
// claimed item is picked up by its claimant, once.
func TestWorldCutShortTickDecidesTheSameWay(t *testing.T) {
	for _, kind := range backend.Names {
		t.Run(kind, func(t *testing.T) { testCutShortTick(t, kind) })
	}
}

func testCutShortTick(t *testing.T, kind string) {
	dir := filepath.Join(t.TempDir(), "world")
	runWorld(t, smallOn(kind, dir, 4))
	ctx := context.Background()
	var cut int
	var claimed int
	func() { // the next tick with a claim: its decisions and contests, then a "crash"
		store, err := backend.Open(ctx, kind, dir)
		require.NoError(t, err)
		defer store.Close()
		g, err := start(ctx, store, smallOn(kind, dir, 0), spatial.Grid{Zone: zone, Width: 3, Height: 3}, new(strings.Builder))
		require.NoError(t, err)
		defer g.close()
		for claimed == 0 { // run on until a tick has a contest to cut short
			st, err := g.read(ctx)
			require.NoError(t, err)
			pl := g.decide(st, g.tick)
			if len(pl.claims) == 0 {
				require.NoError(t, g.step(ctx, g.tick))
				continue
			}
			require.NoError(t, g.contest(ctx, pl, g.tick))
			cut, claimed = g.tick, len(pl.outcome)
		}
	}()
	again := runWorld(t, smallOn(kind, dir, 2))
	assert.Contains(t, again, fmt.Sprintf("resuming after tick %d (", cut-1))
	assert.Contains(t, again, fmt.Sprintf("tick %d durable", cut))
	assert.Contains(t, again, "check: the live projections agree")
	checkClaimsPicked(t, open(t, kind, dir))
}

// checkClaimsPicked checks that each item's claim in the store is matched
// by one Picked event of its claimant, and that no item is picked twice.
func checkClaimsPicked(t *testing.T, store batpak.EventStore) {
	t.Helper()
	ctx := context.Background()
	claims := map[string]string{}
	for ev, err := range store.Query(ctx, event.ForEntity("item:*").WithKind(kindClaimed)) {
		require.NoError(t, err)
		c, err := batpak.Decode[Claim](ev)
		require.NoError(t, err)
		require.NotContains(t, claims, ev.Coordinate.Entity(), "an item claimed twice")
		claims[ev.Coordinate.Entity()] = c.By
	}
	picked := map[string]string{}
	for ev, err := range store.Query(ctx, event.ForEntity("player:*").WithKind(kindPicked)) {
		require.NoError(t, err)
		p, err := batpak.Decode[Pick](ev)
		require.NoError(t, err)
		require.NotContains(t, picked, p.Item, "an item picked twice")
		picked[p.Item] = ev.Coordinate.Entity()
	}
	require.NotEmpty(t, claims)
	assert.Equal(t, claims, picked, "claims and picks")
}

// A world run in two sessions on the same -dir (a restart), then replayed
// as of a tick of the first, on each backend.
func TestWorldResumesAndReplaysAPastTick(t *testing.T) {
	for _, kind := range backend.Names {
		t.Run(kind, func(t *testing.T) { testResumeAndReplay(t, kind) })
	}
}

func testResumeAndReplay(t *testing.T, kind string) {
	dir := filepath.Join(t.TempDir(), "world")
	runWorld(t, smallOn(kind, dir, 5))
	again := runWorld(t, smallOn(kind, dir, 3))
	assert.Contains(t, again, "resuming after tick 4 (")
	assert.Contains(t, again, "tick 5 durable")
	assert.Contains(t, again, "check: the live projections agree with a replay from zero")
	assert.Contains(t, again, "tick 7: 12 players")

	c := smallOn(kind, dir, 0)
	c.replay = 3
	out := runWorld(t, c)
	m := regexp.MustCompile(`the world as of tick 3 \(global (\d+), (\d+) events\): 12 players`).FindStringSubmatch(out)
	require.NotNil(t, m, "%s", out)

	// The same from the log by hand: the zone's events up to the tick's.
	at, _ := strconv.ParseUint(m[1], 10, 64)
	store := open(t, kind, dir)
	n := 0
	for ev, err := range store.Query(context.Background(), spatial.Zone(zone)) {
		require.NoError(t, err)
		if ev.Global <= at {
			n++
		}
	}
	assert.Equal(t, strconv.Itoa(n), m[2])
	assert.Contains(t, out, "most items picked up:")

	require.NoError(t, store.Close())

	c.replay = 99
	err := run(context.Background(), c, new(strings.Builder))
	assert.ErrorContains(t, err, "tick 99 is not in the store (the last durable tick: 7)")
}
