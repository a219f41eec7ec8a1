// Package backend opens the store an example runs on, as its -backend flag
// says: the embedded store in a directory (the default), or the JetStream
// backend (module github.com/batpak-go/batpak/jetstream) over a NATS server
// started in-process (module github.com/batpak-go/batpak/natsembed) that
// keeps its files in that directory. Either way the example sees a
// batpak.EventStore, and opening the same directory again, as a restart
// does, finds the same events. The examples are a module of their own so
// that the core module needs no NATS code.
package backend

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/jetstream"
	"github.com/batpak-go/batpak/natsembed"
)

// The backends.
const (
	Embedded  = "embedded"
	JetStream = "jetstream"
)

// Names lists the backends, for the tests that run an example on each.
var Names = []string{Embedded, JetStream}

// Flag registers -backend on the program's flag set.
func Flag() *string {
	return flag.String("backend", Embedded, "the `backend` to run on: embedded, or jetstream (an in-process NATS server)")
}

// Store is an open store and what it runs on.
type Store struct {
	batpak.EventStore
	srv       *natsembed.Server // JetStream: the server
	nc        *nats.Conn        // JetStream: the connection
	closeOnce sync.Once
	closeErr  error
}

// Open opens the store in dir on the backend called name. opts apply to the
// embedded store only (the JetStream backend's settings are its own).
func Open(ctx context.Context, name, dir string, opts ...batpak.Option) (*Store, error) {
	switch name {
	case Embedded:
		s, err := batpak.Open(dir, opts...)
		if err != nil {
			return nil, err
		}
		return &Store{EventStore: s}, nil
	case JetStream:
		srv, err := natsembed.Start(natsembed.Options{Dir: filepath.Join(dir, "nats")})
		if err != nil {
			return nil, err
		}
		nc, err := srv.Connect()
		if err != nil {
			srv.Shutdown()
			return nil, err
		}
		s, err := jetstream.Open(ctx, nc, jetstream.Options{})
		if err != nil {
			nc.Close()
			srv.Shutdown()
			return nil, err
		}
		return &Store{EventStore: s, srv: srv, nc: nc}, nil
	}
	return nil, fmt.Errorf("unknown backend %q: embedded or jetstream", name)
}

// Close closes the store, then what Open started for it. It is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.EventStore.Close()
		if s.nc != nil {
			s.nc.Close()
			s.srv.Shutdown()
		}
	})
	return s.closeErr
}

// Count is the number of events in the store.
func Count(ctx context.Context, es batpak.EventStore) (int, error) {
	n := 0
	for _, err := range es.Query(ctx, event.AllEvents()) {
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
