package natsembed_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/jetstream"
	"github.com/batpak-go/batpak/natsembed"
	"github.com/batpak-go/batpak/projector"
)

var moved = event.MustCustom(0x1, 0x001)

// An embedded server, the JetStream backend on it, and the facade's calls.
func Example() {
	dir, err := os.MkdirTemp("", "batpak-nats-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	srv, err := natsembed.Start(natsembed.Options{Dir: dir})
	if err != nil {
		panic(err)
	}
	defer srv.Shutdown()
	nc, err := srv.Connect()
	if err != nil {
		panic(err)
	}
	defer nc.Close()
	ctx := context.Background()
	store, err := jetstream.Open(ctx, nc, jetstream.Options{})
	if err != nil {
		panic(err)
	}
	defer store.Close()

	var es batpak.EventStore = store // the same facade as the embedded *batpak.Store
	alice := event.MustCoordinate("player:alice", "room:dungeon")
	r, err := es.Append(ctx, alice, moved, "hall")
	if err != nil {
		panic(err)
	}
	ev, err := es.Get(ctx, r.ID)
	if err != nil {
		panic(err)
	}
	to, _ := batpak.Decode[string](ev)
	fmt.Println(r.Global, r.Sequence, ev.Coordinate, to)

	// Optimistic concurrency: alice has one event, not three.
	_, err = es.AppendWithOptions(ctx, alice, moved, "crypt", event.Expect(3))
	var mm *batpak.SequenceMismatchError
	fmt.Println(errors.As(err, &mm), mm.Actual)
	// Output:
	// 1 0 player:alice@room:dungeon hall
	// true 1
}

// An atomic batch: a failing condition on one item rejects them all.
func ExampleStart_batch() {
	dir, _ := os.MkdirTemp("", "batpak-nats-")
	defer os.RemoveAll(dir)
	srv, err := natsembed.Start(natsembed.Options{Dir: dir})
	if err != nil {
		panic(err)
	}
	defer srv.Shutdown()
	nc, _ := srv.Connect()
	defer nc.Close()
	ctx := context.Background()
	store, err := jetstream.Open(ctx, nc, jetstream.Options{Stream: "SHOP", Subject: "shop"})
	if err != nil {
		panic(err)
	}
	defer store.Close()

	from := event.MustCoordinate("stock:a", "warehouse")
	to := event.MustCoordinate("stock:b", "warehouse")
	rs, err := store.AppendBatch(ctx, []batpak.BatchItem{
		{Coord: from, Kind: moved, Payload: -5, Options: event.Expect(0)},
		{Coord: to, Kind: moved, Payload: 5, Cause: batpak.CauseItem(0)},
	})
	fmt.Println(len(rs), err, rs[1].Causation == rs[0].ID)
	_, err = store.AppendBatch(ctx, []batpak.BatchItem{
		{Coord: from, Kind: moved, Payload: -5},
		{Coord: to, Kind: moved, Payload: 5, Options: event.Expect(0)}, // b has one event
	})
	var bie *batpak.BatchItemError
	fmt.Println(errors.As(err, &bie), bie.Item)
	n := 0
	for _, err := range store.Query(ctx, event.ForScope("warehouse")) {
		if err == nil {
			n++
		}
	}
	fmt.Println(n, "events")
	// Output:
	// 2 <nil> true
	// true 1
	// 2 events
}

type total struct{ Sum int }

func (*total) Projection() projector.Spec {
	return projector.Spec{Name: "total", Version: 1, Kinds: []event.EventKind{moved}, Incremental: true}
}

func (s *total) Apply(ev *event.StoredEvent) error {
	n, err := batpak.Decode[int](ev)
	s.Sum += n
	return err
}

// A projection over the backend, cached in a key-value bucket that every
// client of the cluster shares.
func ExampleStart_projection() {
	dir, _ := os.MkdirTemp("", "batpak-nats-")
	defer os.RemoveAll(dir)
	srv, err := natsembed.Start(natsembed.Options{Dir: dir})
	if err != nil {
		panic(err)
	}
	defer srv.Shutdown()
	nc, _ := srv.Connect()
	defer nc.Close()
	ctx := context.Background()
	store, err := jetstream.Open(ctx, nc, jetstream.Options{})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	cache, err := store.NewKVCache(ctx, jetstream.KVCacheOptions{})
	if err != nil {
		panic(err)
	}
	c := event.MustCoordinate("counter:1", "x")
	for i := 1; i <= 3; i++ {
		if _, err := store.Append(ctx, c, moved, i); err != nil {
			panic(err)
		}
	}
	opts := projector.Options{Cache: cache}
	res, err := projector.Project[total](ctx, store.ProjectionLog(), projector.Entity("counter:1"), projector.Consistent, opts)
	fmt.Println(res.State.Sum, res.Cached, err)
	if _, err := store.Append(ctx, c, moved, 4); err != nil {
		panic(err)
	}
	res, err = projector.Project[total](ctx, store.ProjectionLog(), projector.Entity("counter:1"), projector.Consistent, opts)
	fmt.Println(res.State.Sum, res.Cached, res.Applied, err)
	// Output:
	// 6 false <nil>
	// 10 true 1 <nil>
}

// A three-server cluster in one process, a stream replicated three times,
// and an append that survives the loss of the stream's leader.
func ExampleStartCluster() {
	dir, _ := os.MkdirTemp("", "batpak-nats-")
	defer os.RemoveAll(dir)
	c, err := natsembed.StartCluster(natsembed.Options{Dir: dir}, 3)
	if err != nil {
		panic(err)
	}
	defer c.Shutdown()
	nc, err := c.Connect()
	if err != nil {
		panic(err)
	}
	defer nc.Close()
	ctx := context.Background()
	store, err := jetstream.Open(ctx, nc, jetstream.Options{Replicas: 3})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	alice := event.MustCoordinate("player:alice", "room:dungeon")
	if _, err := store.Append(ctx, alice, moved, "hall"); err != nil {
		panic(err)
	}
	c.StreamLeader(store.StreamName()).Shutdown() // a new leader is elected
	r, err := store.Append(ctx, alice, moved, "crypt")
	fmt.Println(r.Sequence, err)
	// Output: 1 <nil>
}
