package natsembed_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/jetstream"
	"github.com/batpak-go/batpak/natsembed"
	"github.com/batpak-go/batpak/storetest"
	"github.com/nats-io/nats.go"
)

// startServer starts one embedded server for the test.
func startServer(t testing.TB) *natsembed.Server {
	t.Helper()
	srv, err := natsembed.Start(natsembed.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(srv.Shutdown)
	return srv
}

func connect(t testing.TB, c interface {
	Connect(...nats.Option) (*nats.Conn, error)
}) *nats.Conn {
	t.Helper()
	nc, err := c.Connect()
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func openStore(t testing.TB, nc *nats.Conn, o jetstream.Options) *jetstream.Store {
	t.Helper()
	s, err := jetstream.Open(context.Background(), nc, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestConformance runs the facade's behavioural suite against the
// JetStream backend on one embedded server: every subtest gets a stream of
// its own, and "reopening" binds a new Store (and connection) to it.
func TestConformance(t *testing.T) {
	srv := startServer(t)
	var n atomic.Int64
	opts := map[batpak.EventStore]jetstream.Options{}
	storetest.Run(t, func(t *testing.T) batpak.EventStore {
		i := n.Add(1)
		o := jetstream.Options{Stream: fmt.Sprintf("T%d", i), Subject: fmt.Sprintf("t%d", i)}
		s := openStore(t, connect(t, srv), o)
		opts[s] = o
		return s
	}, storetest.WithReopen(func(t *testing.T, old batpak.EventStore) batpak.EventStore {
		o := opts[old]
		if err := old.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		s := openStore(t, connect(t, srv), o)
		opts[s] = o
		return s
	}))
}
