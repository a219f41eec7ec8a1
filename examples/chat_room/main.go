// Command chat_room runs a small chat on a batpak store: rooms are scopes,
// users are entities, and each message is an event.
//
//   - Bob's phone follows the lobby live with a lossy subscription: it gets
//     each message as it is committed, and a tablet left asleep with a small
//     buffer misses messages and says how many, without ever holding up the
//     people talking.
//   - Carol joins late. A guaranteed cursor replays the lobby's history and
//     then follows it live, with no message missed or repeated at the switch.
//   - Carol's "read up to here" marker is a named durable cursor: after the
//     store is closed and reopened she resumes right after the last message
//     she acknowledged.
//
// -backend jetstream runs it over a NATS server started in-process.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"sync"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/examples/internal/backend"
)

// Message is a chat line.
type Message struct {
	Text string `msgpack:"text"`
}

var said = event.MustCustom(0x1, 0x001)

const (
	lobby = "room:lobby"
	attic = "room:attic"
)

var backendName = backend.Flag()

func main() {
	flag.Parse()
	if err := run(*backendName, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// chat is the store plus the way people talk in it.
type chat struct {
	store batpak.EventStore
	ctx   context.Context
}

func (c chat) say(user, room, text string) error {
	coord, err := batpak.NewCoordinate("user:"+user, room)
	if err != nil {
		return err
	}
	_, err = c.store.Append(c.ctx, coord, said, Message{Text: text})
	return err
}

// line renders a message event as "user: text".
func line(ev *batpak.StoredEvent) string {
	m, err := batpak.Decode[Message](ev)
	if err != nil {
		return fmt.Sprintf("(undecodable message %d: %v)", ev.Global, err)
	}
	return ev.Coordinate.Entity()[len("user:"):] + ": " + m.Text
}

func run(kind string, out io.Writer) error {
	dir, err := os.MkdirTemp("", "batpak-chat-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	store, err := backend.Open(ctx, kind, dir)
	if err != nil {
		return err
	}
	defer func() { store.Close() }() // store is reopened below
	c := chat{store: store, ctx: ctx}

	// Bob's phone: a live feed of the lobby, read on its own goroutine.
	phone, err := store.Subscribe(event.ForScope(lobby), 64)
	if err != nil {
		return err
	}
	// Bob's tablet: the same feed with room for two, asleep all along.
	tablet, err := store.Subscribe(event.ForScope(lobby), 2)
	if err != nil {
		return err
	}
	const first = 6 // lobby messages before Carol arrives
	var feed []string
	var wg sync.WaitGroup
	wg.Go(func() {
		for n := range phone.C() {
			// A notification names the event; the message is read by id.
			ev, err := store.Get(ctx, n.ID)
			if err != nil {
				feed = append(feed, "error: "+err.Error())
				return
			}
			if feed = append(feed, line(ev)); len(feed) == first {
				return
			}
		}
	})

	for _, m := range []struct{ user, room, text string }{
		{"alice", lobby, "hi all"},
		{"dave", lobby, "hey alice"},
		{"bob", attic, "is anyone up here?"},
		{"alice", lobby, "the raid starts at nine"},
		{"dave", lobby, "I'll bring potions"},
		{"bob", lobby, "count me in"},
		{"alice", lobby, "great, see you there"},
	} {
		if err := c.say(m.user, m.room, m.text); err != nil {
			return err
		}
	}
	wg.Wait()
	phone.Close()
	for _, l := range feed {
		fmt.Fprintln(out, "bob's phone:", l)
	}
	fmt.Fprintf(out, "bob's tablet: %d messages kept, %d missed\n", tablet.Len(), tablet.Dropped())
	tablet.Close()

	// Carol joins: her cursor replays the lobby, then follows it live.
	fmt.Fprintln(out, "carol joins the lobby and catches up:")
	marker, err := store.DurableCursor("carol-lobby", event.ForScope(lobby))
	if err != nil {
		return err
	}
	history, err := marker.NextBatch(ctx, 100) // everything said so far
	if err != nil {
		return err
	}
	for _, ev := range history {
		fmt.Fprintln(out, "  carol reads:", line(ev))
	}
	if err := marker.Ack(ctx, marker.Position()); err != nil { // read up to here
		return err
	}
	if err := c.say("carol", lobby, "hi! just read everything"); err != nil {
		return err
	}
	if err := c.say("alice", lobby, "welcome carol"); err != nil {
		return err
	}
	for range 2 {
		ev, err := marker.Next(ctx) // live now, no gap after the history
		if err != nil {
			return err
		}
		fmt.Fprintln(out, "  carol, live:", line(ev))
	}
	if err := marker.Ack(ctx, marker.Position()); err != nil {
		return err
	}
	// One more line reaches Carol's screen, but the app closes before she
	// marks it read: it will be delivered again (at-least-once).
	if err := c.say("dave", lobby, "carol, you can have my spare bow"); err != nil {
		return err
	}
	if _, err := marker.Next(ctx); err != nil {
		return err
	}
	marker.Close()

	// The server restarts.
	if err := store.Close(); err != nil {
		return err
	}
	if store, err = backend.Open(ctx, kind, dir); err != nil {
		return err
	}
	marker, err = store.DurableCursor("carol-lobby", event.ForScope(lobby))
	if err != nil {
		return err
	}
	defer marker.Close()
	ev, err := marker.Next(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "after the restart carol resumes at:", line(ev))
	return nil
}
