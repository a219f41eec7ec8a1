package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/projector"
	"github.com/batpak-go/batpak/spatial"
)

// chunkTiles is a chunk's side, in tiles.
const chunkTiles = 8

// game is the running world: the store, the live projections it reads
// the world from, and each player's area-of-interest feed. Everything but
// the projections' own goroutines runs on the tick loop's goroutine.
type game struct {
	store  batpak.EventStore
	cfg    config
	grid   spatial.Grid
	proj   *projector.Projector
	chunks map[spatial.Chunk]*projector.Live[Chunk]
	scores *projector.Live[Scores]
	feeds  map[string]*spatial.Interest // by player
	out    io.Writer

	tick int    // the next tick
	last uint64 // the global sequence of the last durable tick's last event (its clock event)

	notes     []event.Notification // scratch for draining feeds
	delivered int                  // notifications the feeds delivered
	latencies []time.Duration      // of each tick's commit
}

// state is the world a tick decides on: the live projections' states,
// complete through the previous tick.
type state struct {
	where map[string]Pos             // player → position
	items map[spatial.Chunk][]string // chunk → its items, sorted
}

func (g *game) read(ctx context.Context) (state, error) {
	st := state{where: map[string]Pos{}, items: map[spatial.Chunk][]string{}}
	for c, live := range g.chunks {
		err := live.Read(ctx, func(s *Chunk, _ uint64) {
			for p, pos := range s.Players {
				st.where[p] = pos
			}
			if len(s.Items) > 0 {
				st.items[c] = sortedKeys(s.Items)
			}
		})
		if err != nil {
			return st, err
		}
	}
	return st, nil
}

// chunkOf is the chunk of a tile position.
func (g *game) chunkOf(p Pos) spatial.Chunk { return spatial.At(zone, p.X, p.Y, chunkTiles) }

// plan is what a tick decided before it commits.
type plan struct {
	items   []batpak.BatchItem
	moves   int
	borders int                       // moves across a chunk border
	moved   map[string]spatial.Chunk  // player → the chunk it ends the tick in
	claims  map[string][]string       // item → contestants
	itemAt  map[string]spatial.Chunk  // contested item → its chunk
	outcome map[string]contestOutcome // item → how its contest ended
}

type contestOutcome struct {
	winner string
	losers []string
}

// decide makes tick t's moves and claims from st, deterministically: the
// same world and tick give the same plan (after a crash too).
func (g *game) decide(st state, t int) *plan {
	rng := rand.New(rand.NewPCG(g.cfg.seed, uint64(t)))
	pl := &plan{moved: map[string]spatial.Chunk{}, claims: map[string][]string{}, itemAt: map[string]spatial.Chunk{}}
	add := func(entity string, c spatial.Chunk, k event.EventKind, payload any) {
		pl.items = append(pl.items, batpak.BatchItem{Coord: event.MustCoordinate(entity, c.Scope()), Kind: k, Payload: payload})
	}
	w, h := g.grid.Width*chunkTiles, g.grid.Height*chunkTiles
	for i := range g.cfg.players {
		p := fmt.Sprintf("player:%d", i)
		pos, ok := st.where[p]
		if !ok { // new in the world: it appears somewhere
			pos = Pos{X: rng.IntN(w), Y: rng.IntN(h)}
			add(p, g.chunkOf(pos), kindJoined, pos)
			pl.moved[p] = g.chunkOf(pos)
			continue
		}
		here := g.chunkOf(pos)
		// A player standing where items lie claims one of them.
		if items := st.items[here]; len(items) > 0 {
			item := items[rng.IntN(len(items))]
			pl.claims[item] = append(pl.claims[item], p)
			pl.itemAt[item] = here
		}
		next := Pos{X: clamp(pos.X+rng.IntN(3)-1, w), Y: clamp(pos.Y+rng.IntN(3)-1, h)}
		if next == pos {
			continue
		}
		pl.moves++
		there := g.chunkOf(next)
		pl.moved[p] = there
		if there == here {
			add(p, here, kindMoved, next)
			continue
		}
		pl.borders++
		add(p, here, kindLeft, next)
		add(p, there, kindEntered, next)
	}
	if rng.IntN(2) == 0 { // now and then an item appears
		c := g.grid.Chunks()[rng.IntN(g.grid.Width*g.grid.Height)]
		add(fmt.Sprintf("item:%d", t), c, kindSpawned, nil)
	}
	return pl
}

func clamp(v, n int) int { return min(max(v, 0), n-1) }

// contest decides every claimed item by compare-and-swap, before the tick
// batch: each contestant appends a claim to the item's stream expecting
// the item to have only its Spawned event (sequence 1 next), all of them
// at once. The store applies one; the others fail with a
// *SequenceMismatchError. Each claim carries an idempotency key of tick,
// item and player, so a tick replayed after a crash decides the same way:
// the winner's retry returns its original receipt, the others fail again.
// Should no contestant win (the item was claimed by a run that made other
// choices), the item's claim in the log names the winner.
func (g *game) contest(ctx context.Context, pl *plan, t int) error {
	pl.outcome = map[string]contestOutcome{}
	items := sortedKeys(pl.claims)
	type result struct {
		item, player string
		won          bool
		err          error
	}
	n := 0
	for _, ps := range pl.claims {
		n += len(ps)
	}
	results := make(chan result, n)
	var wg sync.WaitGroup
	for _, item := range items {
		coord := event.MustCoordinate(item, pl.itemAt[item].Scope())
		for _, p := range pl.claims[item] {
			opts := event.Expect(1)
			opts.IdempotencyKey = fmt.Sprintf("claim/%d/%s/%s", t, item, p)
			wg.Go(func() {
				_, err := g.store.AppendWithOptions(ctx, coord, kindClaimed, Claim{By: p, Tick: t}, opts)
				var mismatch *batpak.SequenceMismatchError
				if errors.As(err, &mismatch) {
					err = nil
				}
				results <- result{item: item, player: p, won: err == nil && mismatch == nil, err: err}
			})
		}
	}
	wg.Wait()
	close(results)
	for r := range results {
		if r.err != nil {
			return fmt.Errorf("claim of %s by %s: %w", r.item, r.player, r.err)
		}
		o := pl.outcome[r.item]
		if r.won {
			o.winner = r.player
		} else {
			o.losers = append(o.losers, r.player)
		}
		pl.outcome[r.item] = o
	}
	for _, item := range items {
		o := pl.outcome[item]
		if o.winner == "" {
			ev, err := g.store.Latest(ctx, item)
			if err != nil {
				return err
			}
			c, err := batpak.Decode[Claim](ev)
			if err != nil {
				return err
			}
			o.winner = c.By
		}
		slices.Sort(o.losers)
		pl.outcome[item] = o
		at := pl.itemAt[item]
		pl.items = append(pl.items, batpak.BatchItem{Coord: event.MustCoordinate(o.winner, at.Scope()), Kind: kindPicked, Payload: Pick{Item: item, Tick: t}})
		for _, l := range o.losers {
			pl.items = append(pl.items, batpak.BatchItem{Coord: event.MustCoordinate(l, at.Scope()), Kind: kindMissed, Payload: Pick{Item: item, Winner: o.winner, Tick: t}})
		}
	}
	return nil
}

// step runs tick t: decide from the world as the live projections have
// it, settle the contests, hand the movers' feeds over to their new
// areas, commit the tick as one atomic batch, and only then — durable —
// announce it, wait for the projections to apply it and drain the feeds.
func (g *game) step(ctx context.Context, t int) error {
	st, err := g.read(ctx)
	if err != nil {
		return err
	}
	pl := g.decide(st, t)
	if err := g.contest(ctx, pl, t); err != nil {
		return err
	}
	// The clock's event ends the batch. It expects the clock's sequence
	// to be t: a tick is written once, whoever tries again.
	clockItem := batpak.BatchItem{Coord: event.MustCoordinate(clock, clockScope), Kind: kindTick,
		Payload: Tick{N: t, Moves: pl.moves, Claims: len(pl.claims)}, Options: event.Expect(uint64(t))}
	pl.items = append(pl.items, clockItem)
	for p, c := range pl.moved {
		if err := g.moveFeed(p, c); err != nil {
			return err
		}
	}
	start := time.Now()
	rs, err := g.store.AppendBatch(ctx, pl.items) // durable: returns once stored (embedded: after the fsync)
	if err != nil {
		return fmt.Errorf("tick %d: %w", t, err)
	}
	g.latencies = append(g.latencies, time.Since(start))
	g.last, g.tick = rs[len(rs)-1].Global, t+1
	g.announce(t, pl, len(rs))
	if err := g.settle(ctx); err != nil {
		return err
	}
	return g.drain(ctx)
}

// moveFeed opens p's feed on c's area, or hands it over there from where
// it was: what is visible now comes from the old area, this tick's events
// from the new one (so p sees its own arrival).
func (g *game) moveFeed(p string, c spatial.Chunk) error {
	if f := g.feeds[p]; f != nil {
		return f.MoveTo(c)
	}
	f, err := spatial.Follow(g.store, c, 1, 4096)
	if err != nil {
		return err
	}
	g.feeds[p] = f
	return nil
}

// settle waits until every live projection has applied the last tick.
func (g *game) settle(ctx context.Context) error {
	if err := g.scores.WaitApplied(ctx, g.last); err != nil {
		return err
	}
	for _, live := range g.chunks {
		if err := live.WaitApplied(ctx, g.last); err != nil {
			return err
		}
	}
	return nil
}

// drain empties every feed, as a server would send each player what
// happened near it.
func (g *game) drain(ctx context.Context) error {
	for _, f := range g.feeds {
		var err error
		g.notes, err = f.Drain(ctx, g.notes[:0])
		if err != nil {
			return err
		}
		g.delivered += len(g.notes)
	}
	return nil
}

// lost sums what the feeds dropped.
func (g *game) lost() uint64 {
	var n uint64
	for _, f := range g.feeds {
		n += f.Dropped()
	}
	return n
}

func (g *game) announce(t int, pl *plan, events int) {
	contested := 0
	var race string
	for _, item := range sortedKeys(pl.outcome) {
		if o := pl.outcome[item]; len(o.losers) > 0 {
			contested++
			if race == "" {
				race = fmt.Sprintf(" (%s beat %s to %s)", o.winner, strings.Join(o.losers, ", "), item)
			}
		}
	}
	if g.cfg.every <= 0 || (t%g.cfg.every != 0 && contested == 0) {
		return
	}
	fmt.Fprintf(g.out, "tick %d durable: %d events, %d moves (%d across borders), items claimed %d, contested %d%s; commit %v; feeds %d\n",
		t, events, pl.moves, pl.borders, len(pl.outcome), contested, race, g.latencies[len(g.latencies)-1].Round(10*time.Microsecond), g.delivered)
}
