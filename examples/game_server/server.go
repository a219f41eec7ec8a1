package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/projector"
)

// The game's events. A player's events form the entity player:NAME; each
// is filed under the scope of the room the player is in afterwards, so a
// room's scope is the stream of its arrivals.
var (
	Joined = event.MustCustom(0x1, 0x001) // payload Move{To: first room}
	Moved  = event.MustCustom(0x1, 0x002) // payload Move{From, To}
)

// Move is the payload of Joined and Moved.
type Move struct {
	From string `msgpack:"from,omitempty"`
	To   string `msgpack:"to"`
}

// Rooms are the rooms of the map, without their "room:" prefix.
var Rooms = []string{"gate", "hall", "dungeon", "cave", "tower", "forge", "crypt", "garden"}

// Occupancy is the read model of who is where, folded over every player's
// Joined and Moved events in global order (batpak.ProjectRegion). Only
// coordinates are needed: an event's scope is the room it leads to.
type Occupancy struct {
	Where  map[string]string // player entity → room scope
	Events int
}

// Projection describes the fold.
func (*Occupancy) Projection() projector.Spec {
	return projector.Spec{Name: "occupancy", Version: 1, Kinds: []event.EventKind{Joined, Moved}, Incremental: true}
}

// Apply folds one event.
func (o *Occupancy) Apply(ev *event.StoredEvent) error {
	if o.Where == nil {
		o.Where = map[string]string{}
	}
	o.Where[ev.Coordinate.Entity()] = ev.Coordinate.Scope()
	o.Events++
	return nil
}

// Counts returns the number of players per room scope.
func (o *Occupancy) Counts() map[string]int {
	c := map[string]int{}
	for _, room := range o.Where {
		c[room]++
	}
	return c
}

// server is the game's state: the store and a live feed per room.
type server struct {
	store     batpak.EventStore
	conflicts atomic.Int64 // moves retried after a *SequenceMismatchError

	feeds []*feed
	wg    sync.WaitGroup // the feed goroutines
	seenc chan struct{}  // poked (never blocking) when a feed counts an arrival
}

// feed follows one room's arrivals with a lossy subscription: it never
// slows the players down, and says how many arrivals it missed.
type feed struct {
	room     string
	sub      batpak.Subscription
	arrivals atomic.Int64
}

func newServer(store batpak.EventStore) *server {
	return &server{store: store, seenc: make(chan struct{}, 1)}
}

// openFeeds subscribes to every room's scope and drains each feed on its
// own goroutine until closeFeeds.
func (s *server) openFeeds(capacity int) error {
	for _, r := range Rooms {
		sub, err := s.store.Subscribe(event.ForScope("room:"+r), capacity)
		if err != nil {
			s.closeFeeds()
			return err
		}
		f := &feed{room: "room:" + r, sub: sub}
		s.feeds = append(s.feeds, f)
		s.wg.Go(func() {
			for {
				if _, err := f.sub.Recv(context.Background()); err != nil {
					return // the feed or the store was closed
				}
				f.arrivals.Add(1)
				select {
				case s.seenc <- struct{}{}:
				default:
				}
			}
		})
	}
	return nil
}

// seen returns the arrivals the feeds delivered and those they dropped.
func (s *server) seen() (arrivals, dropped int64) {
	for _, f := range s.feeds {
		arrivals += f.arrivals.Load()
		dropped += int64(f.sub.Dropped())
	}
	return arrivals, dropped
}

// awaitFeeds waits until the feeds have accounted (delivered or dropped)
// for total arrivals.
func (s *server) awaitFeeds(ctx context.Context, total int64) error {
	for {
		if a, d := s.seen(); a+d >= total {
			return nil
		}
		select {
		case <-s.seenc:
		case <-ctx.Done():
			a, d := s.seen()
			return fmt.Errorf("room feeds saw %d arrivals and dropped %d of %d: %w", a, d, total, ctx.Err())
		}
	}
}

func (s *server) closeFeeds() {
	for _, f := range s.feeds {
		f.sub.Close()
	}
	s.wg.Wait()
}

func playerEntity(name string) string { return "player:" + name }

// join places every player not yet in the game in the first room, each
// with Expect(0): a player can join only once. The joins go in atomic
// batches. It returns the number of players that joined.
func (s *server) join(ctx context.Context, players []string) (int, error) {
	var newcomers []string
	for _, p := range players {
		_, err := s.store.Latest(ctx, playerEntity(p))
		switch {
		case errors.Is(err, batpak.ErrNotFound):
			newcomers = append(newcomers, p)
		case err != nil:
			return 0, err
		}
	}
	const chunk = 256
	for part := range slices.Chunk(newcomers, chunk) {
		items := make([]batpak.BatchItem, len(part))
		for i, p := range part {
			coord, err := batpak.NewCoordinate(playerEntity(p), "room:"+Rooms[0])
			if err != nil {
				return 0, err
			}
			items[i] = batpak.BatchItem{Coord: coord, Kind: Joined, Payload: Move{To: Rooms[0]}, Options: event.Expect(0)}
		}
		if _, err := s.store.AppendBatch(ctx, items); err != nil {
			return 0, fmt.Errorf("joining: %w", err)
		}
	}
	return len(newcomers), nil
}

// move moves player to a room chosen by pick from the room the player is in
// now. The append expects the player's sequence as just read; if another
// move got in first it fails with a *SequenceMismatchError, and move reloads
// the player's latest event and tries again. It returns the receipt.
func (s *server) move(ctx context.Context, player string, pick func(from string) string) (batpak.Receipt, error) {
	entity := playerEntity(player)
	var behind uint64 // after a conflict: the next sequence the writer reported
	for {
		latest, err := s.store.Latest(ctx, entity)
		if err != nil {
			return batpak.Receipt{}, err
		}
		if latest.Sequence+1 < behind {
			// The move that won is acknowledged but not yet visible (in
			// Durable mode readers see an event once its fsync is done):
			// back off briefly instead of retrying on a stale read.
			select {
			case <-time.After(50 * time.Microsecond):
			case <-ctx.Done():
				return batpak.Receipt{}, ctx.Err()
			}
			continue
		}
		m, err := batpak.Decode[Move](latest)
		if err != nil {
			return batpak.Receipt{}, err
		}
		to := pick(m.To)
		coord, err := batpak.NewCoordinate(entity, "room:"+to)
		if err != nil {
			return batpak.Receipt{}, err
		}
		next := latest.Sequence + 1
		r, err := s.store.AppendWithOptions(ctx, coord, Moved, Move{From: m.To, To: to}, event.Expect(next))
		var mismatch *batpak.SequenceMismatchError
		if errors.As(err, &mismatch) {
			s.conflicts.Add(1)
			behind = mismatch.Actual
			continue
		}
		return r, err
	}
}

// occupancy folds every player's events into an Occupancy.
func (s *server) occupancy(ctx context.Context) (Occupancy, error) {
	return batpak.ProjectRegion[Occupancy](ctx, s.store, event.ForEntity("player:*"), batpak.Consistent)
}

// check compares the projection with each player's latest event.
func (s *server) check(ctx context.Context, occ Occupancy, players []string) error {
	if len(occ.Where) < len(players) { // a reopened store may hold more
		return fmt.Errorf("occupancy knows %d players, want at least %d", len(occ.Where), len(players))
	}
	for _, p := range players {
		latest, err := s.store.Latest(ctx, playerEntity(p))
		if err != nil {
			return err
		}
		if got, want := occ.Where[playerEntity(p)], latest.Coordinate.Scope(); got != want {
			return fmt.Errorf("occupancy puts %s in %s, the log in %s", p, got, want)
		}
	}
	return nil
}

// sortedRooms returns the room scopes of counts in map order.
func sortedRooms(counts map[string]int) []string {
	order := map[string]int{}
	for i, r := range Rooms {
		order["room:"+r] = i
	}
	return slices.SortedFunc(maps.Keys(counts), func(a, b string) int { return order[a] - order[b] })
}
