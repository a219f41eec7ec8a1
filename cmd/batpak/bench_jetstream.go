package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/jetstream"
	"github.com/batpak-go/batpak/natsembed"
	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
)

// The JetStream backend's workloads (bench --backend jetstream): each
// run starts fresh embedded servers in a temporary directory — one, or a
// cluster of --replicas — and binds the backend to them over loopback.
var jetstreamWorkloads = []Workload{
	{ID: "W1raw", Title: "raw JetStream: one goroutine publishing W1's messages, each waiting for its ack", Run: runJSRaw},
	{ID: "W1", Title: "blocking Append from one goroutine (and its overhead over W1raw)", Needs: []string{"W1raw"}, Run: runJSW1},
	{ID: "W2", Title: "8 goroutines × 1,000 appends, each to its own entity", Run: runJSW2},
	{ID: "W3", Title: "400 atomic batches of 256 events", Run: runJSW3},
	{ID: "W5", Title: "100,000 events: 10,000 random Gets, 1,000 entity streams, 20 scope queries", Run: runJSW5},
	{ID: "W8", Title: "16 cursors from 0 over 20,000 events while 20,000 more are appended", Run: runJSW8},
}

// withJetStream starts the servers, opens the backend, runs f and shuts
// everything down.
func (e *Env) withJetStream(id string, f func(s *jetstream.Store, nc *nats.Conn) error) error {
	dir, cleanup, err := e.tempDir(id)
	if err != nil {
		return err
	}
	defer cleanup()
	o := natsembed.Options{Dir: dir, SyncAlways: e.SyncAlways}
	var nc *nats.Conn
	replicas := max(1, e.Replicas)
	if replicas == 1 {
		srv, err := natsembed.Start(o)
		if err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		defer srv.Shutdown()
		nc, err = srv.Connect()
		if err != nil {
			return err
		}
	} else {
		c, err := natsembed.StartCluster(o, replicas)
		if err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		defer c.Shutdown()
		nc, err = c.Connect()
		if err != nil {
			return err
		}
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := jetstream.Open(ctx, nc, jetstream.Options{Replicas: replicas})
	if err != nil {
		return fmt.Errorf("%s: %w", id, err)
	}
	defer s.Close()
	return f(s, nc)
}

// runJSRaw publishes W1's events as plain JetStream messages — same
// subjects, the payload alone, a message id — waiting for each ack: what a
// client gets from JetStream with no event-store layer on top.
func runJSRaw(ctx context.Context, env *Env) ([]Figure, error) {
	n := env.n(20_000, 10)
	var figs []Figure
	err := env.withJetStream("W1raw", func(s *jetstream.Store, nc *nats.Conn) error {
		js, err := njs.New(nc)
		if err != nil {
			return err
		}
		lat := make(latencies, n)
		start := time.Now()
		last := start
		for i := range n {
			data, _, err := event.Encode(batpak.MsgPack, payloadOf(i))
			if err != nil {
				return err
			}
			c := coordOf(i)
			subj := "evt." + rawToken(c.Scope()) + "." + rawToken(c.Entity()) + ".1001"
			if _, err := js.Publish(ctx, subj, data, njs.WithMsgID(strconv.Itoa(i))); err != nil {
				return fmt.Errorf("W1raw: publish %d: %w", i, err)
			}
			now := time.Now()
			lat[i], last = now.Sub(last), now
		}
		env.RawPublishPerSec = rate(n, last.Sub(start))
		figs = append([]Figure{{"W1raw", "events_per_sec", env.RawPublishPerSec, "events/s"}}, lat.figures("W1raw")...)
		return nil
	})
	return figs, err
}

// rawToken makes the bench's coordinates ("player:12", "room:3") subject
// tokens the way the backend does, for the raw publisher.
func rawToken(s string) string {
	out := make([]byte, 0, len(s)+2)
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			out = append(out, "~3A"...)
			continue
		}
		out = append(out, s[i])
	}
	return string(out)
}

// runJSW1 is W1 on the backend, with the overhead over raw publishing:
// raw rate ÷ our rate − 1 (0.2 means our layer costs 20% more time).
func runJSW1(ctx context.Context, env *Env) ([]Figure, error) {
	n := env.n(20_000, 10)
	var figs []Figure
	err := env.withJetStream("W1", func(s *jetstream.Store, _ *nats.Conn) (err error) {
		figs, err = facadeAppends(ctx, s, "W1", n)
		return err
	})
	if err == nil && env.RawPublishPerSec > 0 {
		figs = append(figs, Figure{"W1", "overhead_vs_raw", env.RawPublishPerSec/figs[0].Value - 1, "ratio"})
	}
	return figs, err
}

func runJSW2(ctx context.Context, env *Env) ([]Figure, error) {
	per := env.n(1000, 2)
	var figs []Figure
	err := env.withJetStream("W2", func(s *jetstream.Store, _ *nats.Conn) (err error) {
		figs, err = facadeParallel(ctx, s, "W2", 8, per)
		return err
	})
	return figs, err
}

func runJSW3(ctx context.Context, env *Env) ([]Figure, error) {
	batches := env.n(400, 1)
	var figs []Figure
	err := env.withJetStream("W3", func(s *jetstream.Store, _ *nats.Conn) (err error) {
		figs, err = facadeBatches(ctx, s, "W3", batches, 256)
		return err
	})
	return figs, err
}

func runJSW5(ctx context.Context, env *Env) ([]Figure, error) {
	n := env.n(100_000, 1000)
	var figs []Figure
	err := env.withJetStream("W5", func(s *jetstream.Store, _ *nats.Conn) (err error) {
		figs, err = facadeReads(ctx, s, n, env.n(10_000, 100), 20)
		return err
	})
	return figs, err
}

func runJSW8(ctx context.Context, env *Env) ([]Figure, error) {
	history := env.n(20_000, 100)
	var figs []Figure
	err := env.withJetStream("W8", func(s *jetstream.Store, _ *nats.Conn) (err error) {
		figs, err = facadeCursors(ctx, s, liveSubscribers, history)
		return err
	})
	return figs, err
}
