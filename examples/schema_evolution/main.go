// Command schema_evolution shows one event kind changing shape over three
// releases of a program — player.moved was {X, Y}, then gained a room,
// then a movement mode — with a projection that knows only the newest
// shape. Events of every release stay in the store as they were written
// (and stay verifiable); reads upcast them to the current type. Each
// release is a run of its own program that opens the store, appends and
// closes it. -backend jetstream runs it over a NATS server started
// in-process: the kinds, their versions and names work the same there.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/examples/internal/backend"
	"github.com/batpak-go/batpak/kinds"
	"github.com/batpak-go/batpak/projector"
)

// The payload of player.moved, release by release. Old shapes stay in the
// code as long as the store may hold events of them: the upcasters take
// them.
type (
	MovedV1 struct{ X, Y int }
	MovedV2 struct {
		X, Y int
		Room string
	}
	Moved struct { // release 3, the current one
		Room string
		X, Y int
		Mode string
	}
)

// Release 3's kind, in the default registry: version 3, with the steps
// that bring versions 1 and 2 up to it. Unversioned events (appended
// without a kind) would read as version 1.
var PlayerMoved = batpak.DefineKind[Moved]("player.moved", 0x1, 0x002,
	kinds.Version(3),
	kinds.Upcast(1, func(m MovedV1) (MovedV2, error) { return MovedV2{X: m.X, Y: m.Y, Room: "lobby"}, nil }),
	kinds.Upcast(2, func(m MovedV2) (Moved, error) { return Moved{Room: m.Room, X: m.X, Y: m.Y, Mode: "walk"}, nil }),
)

// The kinds as releases 1 and 2 defined them, each in the registry of its
// own program.
var (
	movedRelease1 = kinds.MustDefine[MovedV1](kinds.NewRegistry(), "player.moved", 0x1, 0x002)
	movedRelease2 = kinds.MustDefine[MovedV2](kinds.NewRegistry(), "player.moved", 0x1, 0x002, kinds.Version(2),
		kinds.Upcast(1, func(m MovedV1) (MovedV2, error) { return MovedV2{X: m.X, Y: m.Y, Room: "lobby"}, nil }))
)

// Position is a projection written for release 3: it knows only Moved.
type Position struct {
	Room  string
	X, Y  int
	Moves int
	Modes map[string]int
}

func (*Position) Projection() projector.Spec {
	return projector.Spec{Name: "position", Version: 1, Kinds: []event.EventKind{PlayerMoved.Kind()}, Incremental: true}
}

func (p *Position) Apply(ev *event.StoredEvent) error {
	m, err := batpak.DecodeAs[Moved](ev) // version 1 and 2 events arrive as Moved
	if err != nil {
		return err
	}
	if p.Modes == nil {
		p.Modes = map[string]int{}
	}
	p.Room, p.X, p.Y = m.Room, m.X, m.Y
	p.Moves++
	p.Modes[m.Mode]++
	return nil
}

var backendName = backend.Flag()

func main() {
	flag.Parse()
	dir, err := os.MkdirTemp("", "batpak-schema-")
	if err != nil {
		log.Fatal(err)
	}
	err = run(context.Background(), *backendName, dir, os.Stdout)
	if rmErr := os.RemoveAll(dir); err == nil {
		err = rmErr
	}
	if err != nil {
		log.Fatal(err)
	}
}

var alice = event.MustCoordinate("player:alice", "game:1")

// run runs the three releases, one after the other, on the store in dir on
// the backend called kind.
func run(ctx context.Context, kind, dir string, out io.Writer) (err error) {
	// Releases 1 and 2 ran before: each appended with its own kind.
	if err := session(ctx, kind, dir, func(s batpak.EventStore) error {
		_, err := batpak.AppendTyped(ctx, s, movedRelease1, alice, MovedV1{X: 1, Y: 2})
		return err
	}); err != nil {
		return err
	}
	if err := session(ctx, kind, dir, func(s batpak.EventStore) error {
		_, err := batpak.AppendTyped(ctx, s, movedRelease2, alice, MovedV2{X: 4, Y: 2, Room: "crypt"})
		return err
	}); err != nil {
		return err
	}

	// Release 3.
	store, err := backend.Open(ctx, kind, dir)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, store.Close()) }()
	if _, err := batpak.AppendTyped(ctx, store, PlayerMoved, alice, Moved{Room: "crypt", X: 5, Y: 9, Mode: "run"}); err != nil {
		return err
	}

	for e, err := range PlayerMoved.Query(ctx, store, event.ForEntity("player:alice")) {
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "event %d, stored as version %d: %+v\n", e.Global, e.PayloadVersion, e.Data)
	}
	pos, err := batpak.Project[Position](ctx, store, "player:alice", batpak.Consistent)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "position: %s (%d,%d) after %d moves, modes %v\n", pos.Room, pos.X, pos.Y, pos.Moves, pos.Modes)

	// The old releases' kinds cannot read what release 3 wrote: a newer
	// version is an error, never a half-read value.
	latest, err := store.Latest(ctx, "player:alice")
	if err != nil {
		return err
	}
	if _, err := movedRelease2.Decode(latest); err != nil {
		fmt.Fprintln(out, "release 2 reading it:", err)
	}

	// The store keeps the kind's name: batpak dump prints player.moved.
	names, err := store.KindNames().Table(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "kind %v is named %q in the store\n", PlayerMoved.Kind(), names[PlayerMoved.Kind()])
	return nil
}

// session opens the store, runs fn and closes it: one run of an old release.
func session(ctx context.Context, kind, dir string, fn func(batpak.EventStore) error) error {
	s, err := backend.Open(ctx, kind, dir)
	if err != nil {
		return err
	}
	return errors.Join(fn(s), s.Close())
}
