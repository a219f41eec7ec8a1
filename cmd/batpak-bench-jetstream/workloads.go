package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/internal/benchkit"
	"github.com/batpak-go/batpak/jetstream"
	"github.com/batpak-go/batpak/natsembed"
)

// servers says what each workload runs on: fresh embedded servers in a
// temporary directory — one, or a cluster of replicas — to which the
// backend binds over loopback.
type servers struct {
	replicas   int  // 1 to 5
	syncAlways bool // the servers fsync every write before acknowledging it
}

// workloads are the JetStream backend's workloads, each run on srv.
func (srv servers) workloads() []benchkit.Workload {
	return []benchkit.Workload{
		{ID: "W1raw", Title: "raw JetStream: one goroutine publishing W1's payloads with a message id, each waiting for its ack", Run: srv.runJSRaw},
		{ID: "W1rawcheck", Title: "W1raw with an append's message size and per-entity sequence check (wildcard subject)", Run: srv.runJSRawCheck},
		{ID: "W1", Title: "blocking Append from one goroutine, interleaved with W1raw's and W1rawcheck's publishes for its overhead figures", Run: srv.runJSW1},
		{ID: "W2", Title: "8 goroutines × 1,000 appends, each to its own entity", Run: srv.runJSW2},
		{ID: "W3", Title: "400 atomic batches of 256 events", Run: srv.runJSW3},
		{ID: "W5", Title: "100,000 events: 10,000 random Gets, 1,000 entity streams, 20 scope queries", Run: srv.runJSW5},
		{ID: "W8", Title: "16 cursors from 0 over 20,000 events while 20,000 more are appended", Run: srv.runJSW8},
	}
}

// with starts the servers, opens the backend, runs f and shuts everything
// down.
func (srv servers) with(env *benchkit.Env, id string, f func(s *jetstream.Store, nc *nats.Conn) error) error {
	dir, cleanup, err := env.TempDir(id)
	if err != nil {
		return err
	}
	defer cleanup()
	o := natsembed.Options{Dir: dir, SyncAlways: srv.syncAlways}
	var nc *nats.Conn
	replicas := max(1, srv.replicas)
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
func (srv servers) runJSRaw(ctx context.Context, env *benchkit.Env) ([]benchkit.Figure, error) {
	return srv.jsRaw(ctx, env, "W1raw", false)
}

// runJSRawCheck is W1raw with what an append adds on the wire: messages of
// the size of an append's record, and the per-entity sequence check on the
// entity's wildcard subject, which the server verifies on every publish.
// Its difference from W1raw is the cost of the guarantee itself; its
// difference from W1 is the cost of our layer around it.
func (srv servers) runJSRawCheck(ctx context.Context, env *benchkit.Env) ([]benchkit.Figure, error) {
	return srv.jsRaw(ctx, env, "W1rawcheck", true)
}

func (srv servers) jsRaw(ctx context.Context, env *benchkit.Env, id string, check bool) ([]benchkit.Figure, error) {
	n := env.N(20_000, 10)
	var figs []benchkit.Figure
	err := srv.with(env, id, func(s *jetstream.Store, nc *nats.Conn) error {
		p, err := newRawPublisher(nc, "")
		if err != nil {
			return err
		}
		lat := make(benchkit.Latencies, n)
		start := time.Now()
		prev := start
		for i := range n {
			if err := p.publish(ctx, i, check); err != nil {
				return fmt.Errorf("%s: publish %d: %w", id, i, err)
			}
			now := time.Now()
			lat[i], prev = now.Sub(prev), now
		}
		figs = append([]benchkit.Figure{{Workload: id, Metric: "events_per_sec", Value: benchkit.Rate(n, prev.Sub(start)), Unit: "events/s"}},
			lat.Figures(id)...)
		return nil
	})
	return figs, err
}

// rawPublisher publishes W1's events without our layer, on the backend's
// subjects (the entity token followed by suffix).
type rawPublisher struct {
	js     njs.JetStream
	suffix string
	last   map[string]uint64 // each entity's last stream sequence
}

func newRawPublisher(nc *nats.Conn, suffix string) (*rawPublisher, error) {
	js, err := njs.New(nc)
	if err != nil {
		return nil, err
	}
	return &rawPublisher{js: js, suffix: suffix, last: map[string]uint64{}}, nil
}

// publish sends event i with a message id and, if check, with an append's
// size and sequence check, and waits for its ack.
func (p *rawPublisher) publish(ctx context.Context, i int, check bool) error {
	data, _, err := event.Encode(batpak.MsgPack, benchkit.PayloadOf(i))
	if err != nil {
		return err
	}
	c := benchkit.CoordOf(i)
	ent := rawToken(c.Entity()) + p.suffix
	m := nats.NewMsg("evt." + rawToken(c.Scope()) + "." + ent + ".1001")
	m.Header.Set("Nats-Msg-Id", p.suffix+strconv.Itoa(i))
	if check {
		data = append(data, recordPad[:]...)
		m.Header.Set("Nats-Expected-Last-Subject-Sequence", strconv.FormatUint(p.last[ent], 10))
		m.Header.Set("Nats-Expected-Last-Subject-Sequence-Subject", "evt.*."+ent+".*")
	}
	m.Data = data
	ack, err := p.js.PublishMsg(ctx, m)
	if err != nil {
		return err
	}
	p.last[ent] = ack.Sequence
	return nil
}

// recordPad brings a raw message to about the size of an append's: the
// record around the payload (ids, clock, coordinates, chain hash, frame:
// 92 bytes for these coordinates), the headers Bp-Id and Bp-Seq (57) and
// the longer message id, less a little.
var recordPad [150]byte

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

// runJSW1 is W1 on the backend. Its overhead figures compare it with raw
// publishing measured in the same run on the same server, interleaved in
// rounds (appends, raw publishes, raw publishes with the check, in an order
// that rotates each round), so load from other processes falls on all three
// alike: time of our appends ÷ time of as many raw publishes (1.2 means
// our layer costs 20% more time). The raw messages go to the same stream
// (same leader, same settings) on entities of their own (the tokens with
// "-raw" and "-chk" appended), so their checks and ours do not meet.
func (srv servers) runJSW1(ctx context.Context, env *benchkit.Env) ([]benchkit.Figure, error) {
	n := env.N(20_000, 10)
	const round = 250
	var figs []benchkit.Figure
	err := srv.with(env, "W1", func(s *jetstream.Store, nc *nats.Conn) error {
		p, err := newRawPublisher(nc, "-raw")
		if err != nil {
			return err
		}
		pc, err := newRawPublisher(nc, "-chk")
		if err != nil {
			return err
		}
		lat := make(benchkit.Latencies, 0, n)
		var ours, raw, rawCheck time.Duration
		kinds := []func(i int) error{
			func(i int) error { // ours, with its latencies
				t := time.Now()
				_, err := s.Append(ctx, benchkit.CoordOf(i), benchkit.Kind, benchkit.PayloadOf(i))
				lat = append(lat, time.Since(t))
				return err
			},
			func(i int) error { return p.publish(ctx, i, false) },
			func(i int) error { return pc.publish(ctx, i, true) },
		}
		spent := []*time.Duration{&ours, &raw, &rawCheck}
		for r := 0; r*round < n; r++ {
			from, to := r*round, min(n, (r+1)*round)
			for k := range kinds {
				k = (k + r) % len(kinds)
				t := time.Now()
				for i := from; i < to; i++ {
					if err := kinds[k](i); err != nil {
						return fmt.Errorf("W1: %d (kind %d): %w", i, k, err)
					}
				}
				*spent[k] += time.Since(t)
			}
		}
		figs = append([]benchkit.Figure{{Workload: "W1", Metric: "events_per_sec", Value: benchkit.Rate(n, ours), Unit: "events/s"}},
			lat.Figures("W1")...)
		figs = append(figs,
			benchkit.Figure{Workload: "W1", Metric: "time_vs_raw", Value: float64(ours) / float64(raw), Unit: "ratio"},
			benchkit.Figure{Workload: "W1", Metric: "time_vs_rawcheck", Value: float64(ours) / float64(rawCheck), Unit: "ratio"},
			benchkit.Figure{Workload: "W1", Metric: "rawcheck_time_vs_raw", Value: float64(rawCheck) / float64(raw), Unit: "ratio"})
		return nil
	})
	return figs, err
}

func (srv servers) runJSW2(ctx context.Context, env *benchkit.Env) ([]benchkit.Figure, error) {
	per := env.N(1000, 2)
	var figs []benchkit.Figure
	err := srv.with(env, "W2", func(s *jetstream.Store, _ *nats.Conn) (err error) {
		figs, err = benchkit.FacadeParallel(ctx, s, "W2", 8, per)
		return err
	})
	return figs, err
}

func (srv servers) runJSW3(ctx context.Context, env *benchkit.Env) ([]benchkit.Figure, error) {
	batches := env.N(400, 1)
	var figs []benchkit.Figure
	err := srv.with(env, "W3", func(s *jetstream.Store, _ *nats.Conn) (err error) {
		figs, err = benchkit.FacadeBatches(ctx, s, "W3", batches, 256)
		return err
	})
	return figs, err
}

func (srv servers) runJSW5(ctx context.Context, env *benchkit.Env) ([]benchkit.Figure, error) {
	n := env.N(100_000, 1000)
	var figs []benchkit.Figure
	err := srv.with(env, "W5", func(s *jetstream.Store, _ *nats.Conn) (err error) {
		figs, err = benchkit.FacadeReads(ctx, s, n, env.N(10_000, 100), 20)
		return err
	})
	return figs, err
}

func (srv servers) runJSW8(ctx context.Context, env *benchkit.Env) ([]benchkit.Figure, error) {
	history := env.N(20_000, 100)
	var figs []benchkit.Figure
	err := srv.with(env, "W8", func(s *jetstream.Store, _ *nats.Conn) (err error) {
		figs, err = benchkit.FacadeCursors(ctx, s, benchkit.LiveSubscribers, history)
		return err
	})
	return figs, err
}
