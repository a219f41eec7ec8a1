package main

import (
	"fmt"
	"maps"
	"slices"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/projector"
	"github.com/batpak-go/batpak/spatial"
)

// The world's events. A player's events form the entity player:N, an
// item's item:T (spawned at tick T), the clock's clock:zone:1; each is
// filed under the scope of the chunk it happens in (package spatial:
// zone:1/X,Y), the clock under zone:1/clock. So a chunk's scope is the
// stream of everything that happens there, and zone:1/* is the world.
var (
	kindJoined  = event.MustCustom(0x3, 0x001) // a player appears: Pos, in its chunk
	kindMoved   = event.MustCustom(0x3, 0x002) // a step inside a chunk: Pos
	kindLeft    = event.MustCustom(0x3, 0x003) // a step out of a chunk: Pos, in the chunk left
	kindEntered = event.MustCustom(0x3, 0x004) // the same step into the next chunk: Pos, in it
	kindSpawned = event.MustCustom(0x3, 0x005) // an item appears: item entity, in its chunk
	kindClaimed = event.MustCustom(0x3, 0x006) // an item's claim, decided by compare-and-swap: Claim
	kindPicked  = event.MustCustom(0x3, 0x007) // the claim's winner picks the item up: Pick
	kindMissed  = event.MustCustom(0x3, 0x008) // a loser of the race is told who won: Pick
	kindTick    = event.MustCustom(0x3, 0x009) // the tick's last event, on the clock: Tick
)

// zone is the world's one zone, and clockScope the scope of its clock.
const (
	zone       = 1
	clockScope = "zone:1/clock"
	clock      = "clock:zone:1"
)

// Pos is a player's tile position.
type Pos struct {
	X int `msgpack:"x"`
	Y int `msgpack:"y"`
}

// Claim is an item's claim: who claims it, in which tick.
type Claim struct {
	By   string `msgpack:"by"`
	Tick int    `msgpack:"tick"`
}

// Pick is a picked-up item (Picked, in the winner's stream) or a missed
// one (Missed, in a loser's, with the winner).
type Pick struct {
	Item   string `msgpack:"item"`
	Winner string `msgpack:"winner,omitempty"`
	Tick   int    `msgpack:"tick"`
}

// Tick is the clock's event: the tick's number and what happened in it.
type Tick struct {
	N      int `msgpack:"n"`
	Moves  int `msgpack:"moves"`
	Claims int `msgpack:"claims"`
}

// Chunk is a chunk's state: who is in it, where, and the items lying
// there. It is each chunk's live projection (over the chunk's scope), and
// also, per chunk, part of World.
type Chunk struct {
	Players map[string]Pos    `msgpack:"players"`
	Items   map[string]string `msgpack:"items"` // item → the chunk scope it lies in
}

// Projection lists the kinds that change a chunk; claims, misses and the
// clock are read by nobody's chunk.
func (*Chunk) Projection() projector.Spec {
	return projector.Spec{Name: "chunk", Version: 1, Incremental: true,
		Kinds: []event.EventKind{kindJoined, kindMoved, kindLeft, kindEntered, kindSpawned, kindPicked}}
}

// Init makes the maps.
func (c *Chunk) Init() {
	c.Players, c.Items = map[string]Pos{}, map[string]string{}
}

// Apply folds one event of the chunk.
func (c *Chunk) Apply(ev *event.StoredEvent) error {
	who := ev.Coordinate.Entity()
	switch ev.Kind {
	case kindJoined, kindMoved, kindEntered:
		p, err := batpak.Decode[Pos](ev)
		if err != nil {
			return err
		}
		c.Players[who] = p
	case kindLeft:
		delete(c.Players, who)
	case kindSpawned:
		c.Items[who] = ev.Coordinate.Scope()
	case kindPicked:
		p, err := batpak.Decode[Pick](ev)
		if err != nil {
			return err
		}
		delete(c.Items, p.Item)
	}
	return nil
}

// Clone copies the state for a snapshot.
func (c *Chunk) Clone() Chunk {
	return Chunk{Players: maps.Clone(c.Players), Items: maps.Clone(c.Items)}
}

// Scores counts the items each player picked up: a live projection over
// every player's Picked events (an entity prefix region).
type Scores struct {
	By map[string]int `msgpack:"by"`
}

// Projection describes the fold.
func (*Scores) Projection() projector.Spec {
	return projector.Spec{Name: "scores", Version: 1, Incremental: true, Kinds: []event.EventKind{kindPicked}}
}

// Init makes the map.
func (s *Scores) Init() { s.By = map[string]int{} }

// Apply counts one pick.
func (s *Scores) Apply(ev *event.StoredEvent) error {
	s.By[ev.Coordinate.Entity()]++
	return nil
}

// scoresRegion is what Scores folds.
func scoresRegion() event.Region { return event.ForEntity("player:*").WithKind(kindPicked) }

// World is the whole zone folded in one pass over its scope prefix: every
// chunk, the scores and the clock. It is what a replay (-replay, as of a
// tick) and the final check compute from the log, apart from the live
// projections.
type World struct {
	Chunks map[string]*Chunk `msgpack:"chunks"` // by chunk scope
	Scores map[string]int    `msgpack:"scores"`
	Tick   int               `msgpack:"tick"`
	Events int               `msgpack:"events"`
}

// Projection describes the fold: every kind.
func (*World) Projection() projector.Spec {
	return projector.Spec{Name: "world", Version: 1, Incremental: true}
}

// Init makes the maps; Tick -1 is "before the first tick".
func (w *World) Init() {
	w.Chunks, w.Scores, w.Tick = map[string]*Chunk{}, map[string]int{}, -1
}

// Apply folds one event of the zone.
func (w *World) Apply(ev *event.StoredEvent) error {
	w.Events++
	scope := ev.Coordinate.Scope()
	switch ev.Kind {
	case kindTick:
		t, err := batpak.Decode[Tick](ev)
		w.Tick = t.N
		return err
	case kindPicked:
		w.Scores[ev.Coordinate.Entity()]++
	}
	c := w.Chunks[scope]
	if c == nil {
		if _, err := spatial.ParseChunk(scope); err != nil {
			return nil // not a chunk's (the clock's)
		}
		c = &Chunk{}
		c.Init()
		w.Chunks[scope] = c
	}
	return c.Apply(ev)
}

// Players counts the players in the world.
func (w *World) Players() int {
	n := 0
	for _, c := range w.Chunks {
		n += len(c.Players)
	}
	return n
}

// Items counts the items lying in the world.
func (w *World) Items() int {
	n := 0
	for _, c := range w.Chunks {
		n += len(c.Items)
	}
	return n
}

// diff describes how a live chunk differs from the world's, "" if not.
func diff(scope string, live Chunk, w *World) string {
	want := w.Chunks[scope]
	if want == nil {
		want = &Chunk{}
		want.Init()
	}
	if !maps.Equal(live.Players, want.Players) || !maps.Equal(live.Items, want.Items) {
		return fmt.Sprintf("%s: live %v %v, replay %v %v", scope,
			sortedKeys(live.Players), sortedKeys(live.Items), sortedKeys(want.Players), sortedKeys(want.Items))
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
