// Command game_server runs a small in-process game server on a batpak
// store, keyed by coordinate: players (entities player:NAME) move between
// rooms (scopes room:NAME).
//
//   - A move is a conditional append: it expects the player's sequence as
//     last read, so two concurrent moves of one player cannot both act on
//     the same position. The loser gets a *batpak.SequenceMismatchError,
//     reloads the player with Latest and tries again.
//   - Each room has a live feed: a lossy subscription on its scope, which
//     never slows the players down and counts what it misses.
//   - Who is where is a projection (projector.EventSourced) folded over
//     every player's events with batpak.ProjectRegion, and checked against
//     each player's latest event.
//
// A built-in load generator drives it: -players N -moves M -workers W
// moves M times a random player among N from W goroutines, and reports the
// throughput and the conflicts retried. -duel ends the run with a duel: a
// small workflow of reactions (see duel.go). With -dir the store is kept;
// without, it lives in a temporary directory removed at exit. -backend
// jetstream runs it over a NATS server started in-process.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/examples/internal/backend"
)

// config is the command line.
type config struct {
	backend string
	dir     string
	players int
	moves   int
	workers int
	onWrite bool
	duel    bool
}

// report is what a run measured, for the tests.
type report struct {
	Moves, Conflicts  int64
	Elapsed           time.Duration
	Arrivals, Dropped int64
	Occupancy         map[string]int
	Duel              []batpak.Receipt // with -duel: the duel's events, the challenge first
}

func main() {
	var c config
	flag.StringVar(&c.backend, "backend", backend.Embedded, "the `backend` to run on: embedded, or jetstream (an in-process NATS server)")
	flag.StringVar(&c.dir, "dir", "", "keep the store in `directory` (default: a temporary directory removed at exit)")
	flag.IntVar(&c.players, "players", 100, "number of players")
	flag.IntVar(&c.moves, "moves", 20000, "number of moves in all")
	flag.IntVar(&c.workers, "workers", 16, "goroutines making moves")
	flag.BoolVar(&c.onWrite, "onwrite", false, "acknowledge moves on write instead of after their fsync (embedded)")
	flag.BoolVar(&c.duel, "duel", false, "end with a duel between two players: a workflow for `batpak graph`")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "game_server:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config, out io.Writer) (rep report, err error) {
	if c.players < 1 || c.moves < 0 || c.workers < 1 {
		return rep, fmt.Errorf("need -players ≥ 1, -moves ≥ 0, -workers ≥ 1")
	}
	dir := c.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "batpak-game-"); err != nil {
			return rep, err
		}
		defer os.RemoveAll(dir)
	}
	var opts []batpak.Option
	mode := "durable"
	if c.onWrite {
		opts = append(opts, batpak.WithDurability(batpak.OnWrite))
		mode = "on-write"
	}
	if c.backend == "" {
		c.backend = backend.Embedded
	}
	if c.backend == backend.JetStream {
		mode = "JetStream on an in-process NATS server"
	}
	store, err := backend.Open(ctx, c.backend, dir, opts...)
	if err != nil {
		return rep, err
	}
	defer func() { err = errors.Join(err, store.Close()) }()
	before, err := backend.Count(ctx, store)
	if err != nil {
		return rep, err
	}

	s := newServer(store)
	if err := s.openFeeds(4096); err != nil {
		return rep, err
	}
	defer s.closeFeeds()

	players := make([]string, c.players)
	for i := range players {
		players[i] = fmt.Sprintf("p%d", i)
	}
	fmt.Fprintf(out, "game server: %d players in %d rooms, %s, store in %s\n", c.players, len(Rooms), mode, dir)
	if before > 0 {
		fmt.Fprintf(out, "reopened a store of %d events: players keep their rooms\n", before)
	}
	joined, err := s.join(ctx, players)
	if err != nil {
		return rep, err
	}

	start := time.Now()
	if err := s.load(ctx, players, c.moves, c.workers); err != nil {
		return rep, err
	}
	rep.Elapsed = time.Since(start)
	rep.Moves, rep.Conflicts = int64(c.moves), s.conflicts.Load()
	fmt.Fprintf(out, "load: %d moves by %d workers in %v: %.0f moves/s, %d conflicts retried\n",
		rep.Moves, c.workers, rep.Elapsed.Round(time.Millisecond),
		float64(rep.Moves)/max(rep.Elapsed.Seconds(), 1e-9), rep.Conflicts)

	total := rep.Moves + int64(joined)
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.awaitFeeds(waitCtx, total); err != nil {
		return rep, err
	}
	rep.Arrivals, rep.Dropped = s.seen()
	fmt.Fprintf(out, "room feeds: %d arrivals seen live, %d dropped\n", rep.Arrivals, rep.Dropped)

	occ, err := s.occupancy(ctx)
	if err != nil {
		return rep, err
	}
	rep.Occupancy = occ.Counts()
	fmt.Fprintf(out, "occupancy (projection of %d events):", occ.Events)
	for _, r := range sortedRooms(rep.Occupancy) {
		fmt.Fprintf(out, " %s %d", r, rep.Occupancy[r])
	}
	fmt.Fprintln(out)
	if err := s.check(ctx, occ, players); err != nil {
		return rep, err
	}
	fmt.Fprintln(out, "check: the projection agrees with every player's latest event")
	if c.duel && len(players) >= 2 {
		a, b := players[0], players[len(players)-1]
		room := occ.Where[playerEntity(a)]
		if rep.Duel, err = s.duel(ctx, a, b, room); err != nil {
			return rep, err
		}
		fmt.Fprintf(out, "duel: %s challenged %s in %s, %d events", a, b, room, len(rep.Duel))
		if c.backend == backend.Embedded {
			fmt.Fprintf(out, "; draw it with: batpak graph %s --correlation %s", dir, rep.Duel[0].ID)
		}
		fmt.Fprintln(out)
	}
	return rep, nil
}

// load makes moves moves from workers goroutines, each moving a random
// player to a random other room.
func (s *server) load(ctx context.Context, players []string, moves, workers int) error {
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		errMu sync.Mutex
		first error
	)
	for w := range workers {
		rng := rand.New(rand.NewPCG(uint64(w), 0x9a3e))
		pick := func(from string) string {
			for {
				if to := Rooms[rng.IntN(len(Rooms))]; to != from {
					return to
				}
			}
		}
		wg.Go(func() {
			for next.Add(1) <= int64(moves) {
				p := players[rng.IntN(len(players))]
				if _, err := s.move(ctx, p, pick); err != nil {
					errMu.Lock()
					first = errors.Join(first, fmt.Errorf("moving %s: %w", p, err))
					errMu.Unlock()
					next.Store(int64(moves)) // stop the others
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}
