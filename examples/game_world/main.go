// Command game_world runs a game world on a batpak store: a tick loop at
// 20 Hz over a zone of chunks, players moving between them and racing for
// items, an area-of-interest feed per player, live projections for the
// chunks, crash-safe resumption and time travel to any past tick.
//
// The world is zone 1 of package spatial, a grid of -chunks × -chunks
// chunks of 8×8 tiles. Every event is filed under the scope of the chunk
// it happens in (zone:1/X,Y), so a chunk is a scope, the zone a scope
// prefix (zone:1/*) and a player's surroundings a set of scopes.
//
// # A tick
//
//  1. The world is read from live projections (projector.Register): one
//     per chunk, over the chunk's scope, and one of the scores over every
//     player's picks (an entity prefix). They are complete through the
//     previous tick: the loop waited for them (WaitApplied) before.
//  2. Every player decides (deterministically, from the seed, the tick
//     and that world): a step, possibly across a chunk border, and, if
//     items lie in its chunk, a claim on one of them.
//  3. Contested items are settled by compare-and-swap before the tick is
//     committed: every claimant appends a claim to the item's stream at
//     once, each expecting the item to hold only its Spawned event; the
//     store applies one and refuses the others (*SequenceMismatchError).
//     This is not done inside the tick's batch on purpose: an atomic batch
//     is all or nothing, so one lost race there would reject every
//     player's tick (*BatchItemError). The batch is built from outcomes
//     already decided instead — the winner's Picked, each loser's Missed
//     (the loser's tick sees the conflict) — and cannot fail for them.
//  4. The movers' feeds are handed over to their new areas
//     (spatial.Interest.MoveTo), then the whole tick — moves, joins,
//     spawns, picks, misses and the clock's Tick event, which expects the
//     clock's sequence to be the tick's number — is appended as one atomic
//     batch, durable (on the embedded store acknowledged after its fsync,
//     on JetStream once the server has stored it) before anything about it
//     is announced.
//  5. The loop waits for the live projections to apply the tick, and
//     drains each player's feed: the notifications of what happened in
//     the 3×3 chunks around it, which follows it across borders.
//
// # Crashes and time travel
//
// Kill it at any point (-crash-after N exits without closing the store
// right after tick N is announced; or send a signal), start it again on
// the same -dir: it reads the clock's newest event and resumes after the
// last durable tick. A tick that was cut short leaves at most claims in
// the log (the batch is all or nothing); replayed, it makes the same
// decisions, and each claim carries an idempotency key (tick, item,
// player), so the same claimant wins again — its retry returns the
// original receipt — and the outcome is the one the log already holds.
// At the end of every run the live projections are checked against a
// replay of the zone from zero.
//
// -replay TICK prints the world as it was at that tick: a projection of
// the zone as of the tick's clock event (batpak.AsOf), whatever came
// after. While it runs on the embedded store, watch it from another
// terminal:
//
//	batpak tail -f --scope 'zone:1/*' DIR
//
// # Backends
//
// -backend jetstream runs the same world over a NATS server started
// in-process, keeping its files in -dir: the batches, compare-and-swap
// claims, live projections, feeds, resumption after a restart on the same
// -dir and -replay are all batpak.EventStore's. Two things differ. A
// feed's handover to a new area may miss or reorder notifications around
// it there (package spatial says why), which only the feed counts show.
// And crashes are the embedded store's only: a crash of the example would
// take the in-process server down with it, testing NATS's recovery rather
// than the tick loop's (a real deployment's servers outlive their
// clients). So -crash-after is refused with -backend jetstream, and the
// resumption after a crash or kill -9 is checked on the embedded store.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/examples/internal/backend"
	"github.com/batpak-go/batpak/projector"
	"github.com/batpak-go/batpak/spatial"
)

// config is the command line.
type config struct {
	backend    string
	dir        string
	players    int
	chunks     int
	ticks      int
	hz         float64
	seed       uint64
	every      int
	crashAfter int
	replay     int
}

func main() { os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr)) }

// cli runs the command with args and returns its exit status.
func cli(args []string, stdout, stderr io.Writer) int {
	var c config
	fs := flag.NewFlagSet("game_world", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.backend, "backend", backend.Embedded, "the `backend` to run on: embedded, or jetstream (an in-process NATS server keeping its files in -dir)")
	fs.StringVar(&c.dir, "dir", "", "keep the store in `directory` (default: a temporary one, removed at exit)")
	fs.IntVar(&c.players, "players", 50, "number of players")
	fs.IntVar(&c.chunks, "chunks", 6, "the zone is `N`×N chunks of 8×8 tiles")
	fs.IntVar(&c.ticks, "ticks", 200, "ticks to run (0: until interrupted)")
	fs.Float64Var(&c.hz, "hz", 20, "ticks per second (0: as fast as they commit)")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the players' decisions")
	fs.IntVar(&c.every, "every", 20, "announce every `N`th tick, and every tick with a contest (0: none)")
	fs.IntVar(&c.crashAfter, "crash-after", -1, "exit with status 3, without closing the store, right after tick `N` is announced (embedded only)")
	fs.IntVar(&c.replay, "replay", -1, "print the world as it was at tick `N` and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c, stdout); err != nil {
		fmt.Fprintln(stderr, "game_world:", err)
		return 1
	}
	return 0
}

func run(ctx context.Context, c config, out io.Writer) (err error) {
	switch {
	case c.players < 1 || c.chunks < 1 || c.ticks < 0 || c.hz < 0:
		return errors.New("need -players ≥ 1, -chunks ≥ 1, -ticks ≥ 0, -hz ≥ 0")
	case c.dir == "" && (c.crashAfter >= 0 || c.replay >= 0):
		return errors.New("-crash-after and -replay need -dir")
	case c.backend == backend.JetStream && c.crashAfter >= 0:
		return errors.New("-crash-after runs on the embedded store only: a crash would take the in-process NATS server down with it")
	}
	if c.backend == "" {
		c.backend = backend.Embedded
	}
	dir := c.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "batpak-world-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		c.dir = dir
	}
	store, err := backend.Open(ctx, c.backend, dir)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, store.Close()) }()
	grid := spatial.Grid{Zone: zone, Width: c.chunks, Height: c.chunks}
	if c.replay >= 0 {
		return replay(ctx, store, grid, c.replay, out)
	}
	g, err := start(ctx, store, c, grid, out)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, g.close()) }()
	if err := g.loop(ctx); err != nil {
		return err
	}
	return g.finish(ctx)
}

// start opens the live projections and the feeds, and resumes after the
// last durable tick, if there is one.
func start(ctx context.Context, store batpak.EventStore, c config, grid spatial.Grid, out io.Writer) (*game, error) {
	g := &game{store: store, cfg: c, grid: grid, out: out, chunks: map[spatial.Chunk]*projector.Live[Chunk]{}, feeds: map[string]*spatial.Interest{}}
	switch ev, err := store.Latest(ctx, clock); {
	case errors.Is(err, batpak.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		t, err := batpak.Decode[Tick](ev)
		if err != nil {
			return nil, err
		}
		g.tick, g.last = t.N+1, ev.Global
	}
	var err error
	if g.proj, err = batpak.NewProjector(store); err != nil {
		return nil, err
	}
	for _, ch := range grid.Chunks() {
		live, err := projector.Register[Chunk](g.proj, "chunk "+ch.Scope(), projector.Over(event.ForScope(ch.Scope())))
		if err != nil {
			return nil, errors.Join(err, g.close())
		}
		g.chunks[ch] = live
	}
	if g.scores, err = projector.Register[Scores](g.proj, "", projector.Over(scoresRegion())); err != nil {
		return nil, errors.Join(err, g.close())
	}
	if err := g.settle(ctx); err != nil {
		return nil, errors.Join(err, g.close())
	}
	st, err := g.read(ctx)
	if err != nil {
		return nil, errors.Join(err, g.close())
	}
	for p, pos := range st.where {
		if err := g.moveFeed(p, g.chunkOf(pos)); err != nil {
			return nil, errors.Join(err, g.close())
		}
	}
	fmt.Fprintf(out, "game world: %d players, %d×%d chunks of %d×%d tiles, %s, %s store in %s\n",
		c.players, c.chunks, c.chunks, chunkTiles, chunkTiles, rate(c.hz), c.backend, c.dir)
	if g.tick > 0 {
		items := 0
		for _, it := range st.items {
			items += len(it)
		}
		fmt.Fprintf(out, "resuming after tick %d (global %d): %d players, %d items on the ground\n", g.tick-1, g.last, len(st.where), items)
	}
	return g, nil
}

func rate(hz float64) string {
	if hz == 0 {
		return "unthrottled"
	}
	return fmt.Sprintf("%g Hz", hz)
}

// loop runs the ticks, each at its time (at -hz), until -ticks or ctx
// ends (a signal: a clean stop).
func (g *game) loop(ctx context.Context) error {
	var period time.Duration
	if g.cfg.hz > 0 {
		period = time.Duration(float64(time.Second) / g.cfg.hz)
	}
	begin := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for i := 0; g.cfg.ticks == 0 || i < g.cfg.ticks; i++ {
		if wait := time.Until(begin.Add(time.Duration(i) * period)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			fmt.Fprintf(g.out, "stopping after tick %d: %v\n", g.tick-1, context.Cause(ctx))
			return nil
		}
		t := g.tick
		if err := g.step(ctx, t); err != nil {
			return err
		}
		if t == g.cfg.crashAfter {
			fmt.Fprintf(g.out, "crashing after tick %d: exit without closing the store\n", t)
			os.Exit(3)
		}
	}
	return nil
}

// finish reports the run and checks the live projections against a
// replay of the zone from zero.
func (g *game) finish(ctx context.Context) error {
	if err := g.drain(ctx); err != nil {
		return err
	}
	if n := len(g.latencies); n > 0 {
		l := slices.Clone(g.latencies)
		slices.Sort(l)
		fmt.Fprintf(g.out, "ran %d ticks (to tick %d): commit p50 %v, p99 %v; feeds delivered %d notifications, lost %d\n",
			n, g.tick-1, l[n/2].Round(10*time.Microsecond), l[min(n-1, n*99/100)].Round(10*time.Microsecond), g.delivered, g.lost())
	}
	w, err := batpak.ProjectRegion[World](ctx, g.store, spatial.Zone(zone), batpak.Consistent)
	if err != nil {
		return err
	}
	var bad []string
	for ch, live := range g.chunks {
		err := live.Read(ctx, func(s *Chunk, _ uint64) {
			if d := diff(ch.Scope(), *s, &w); d != "" {
				bad = append(bad, d)
			}
		})
		if err != nil {
			return err
		}
	}
	u, err := g.scores.Snapshot(ctx)
	if err != nil {
		return err
	}
	if !mapsEqual(u.State.By, w.Scores) {
		bad = append(bad, fmt.Sprintf("scores: live %v, replay %v", u.State.By, w.Scores))
	}
	if w.Tick != g.tick-1 {
		bad = append(bad, fmt.Sprintf("the replay ends at tick %d, the loop at %d", w.Tick, g.tick-1))
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return fmt.Errorf("the live projections disagree with a replay from zero: %v", bad)
	}
	fmt.Fprintf(g.out, "check: the live projections agree with a replay from zero (%d events, tick %d: %d players, %d items on the ground)\n",
		w.Events, w.Tick, w.Players(), w.Items())
	return nil
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// close ends the feeds and the projections.
func (g *game) close() error {
	var err error
	for _, f := range g.feeds {
		err = errors.Join(err, f.Close())
	}
	if g.proj != nil {
		err = errors.Join(err, g.proj.Close())
	}
	return err
}
