package natsembed_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/jetstream"
	"github.com/nats-io/nats.go"
)

// The append benchmarks measure the backend's cost per append against raw
// publishes on the same server, subjects and message sizes, one goroutine
// waiting for each acknowledgement (the bench command's W1 and W1raw), so
// a CPU profile shows where the layer's time goes, client and server alike
// (the server runs in-process).

var benchCoords = func() []batpak.Coordinate {
	cs := make([]batpak.Coordinate, 1000)
	for i := range cs {
		cs[i] = event.MustCoordinate(fmt.Sprintf("player:%d", i), fmt.Sprintf("room:%d", i%10))
	}
	return cs
}()

func benchStore(b testing.TB) (*jetstream.Store, *nats.Conn) {
	srv := startServer(b)
	nc := connect(b, srv)
	return openStore(b, nc, jetstream.Options{}), nc
}

// BenchmarkAppend appends round-robin to 1,000 entities, the first
// append to each reading the entity's newest event.
func BenchmarkAppend(b *testing.B) { benchAppend(b, false) }

// BenchmarkAppendWarm appends to entities whose newest event the store
// already knows: no append needs a read first.
func BenchmarkAppendWarm(b *testing.B) { benchAppend(b, true) }

func benchAppend(b *testing.B, warm bool) {
	s, _ := benchStore(b)
	ctx := context.Background()
	if warm {
		for i, c := range benchCoords {
			if _, err := s.Append(ctx, c, 0x1001, map[string]int{"x": i, "y": 2 * i}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.Append(ctx, benchCoords[i%len(benchCoords)], 0x1001, map[string]int{"x": i, "y": 2 * i}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSubmit is BenchmarkAppendWarm pipelined: Submit round-robin to
// 1,000 entities, waiting for the tickets 1,000 at a time, so up to 1,000
// appends are in flight (an entity's one at a time).
func BenchmarkSubmit(b *testing.B) {
	s, _ := benchStore(b)
	ctx := context.Background()
	for i, c := range benchCoords {
		if _, err := s.Append(ctx, c, 0x1001, map[string]int{"x": i, "y": 2 * i}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	tickets := make([]batpak.Ticket, 0, len(benchCoords))
	wait := func() {
		for _, t := range tickets {
			if _, err := t.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
		tickets = tickets[:0]
	}
	i := 0
	for b.Loop() {
		t, err := s.Submit(ctx, benchCoords[i%len(benchCoords)], 0x1001, map[string]int{"x": i, "y": 2 * i}, batpak.AppendOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if tickets = append(tickets, t); len(tickets) == cap(tickets) {
			wait()
		}
		i++
	}
	wait()
}

// rawSubject is the subject the backend gives coordinate c's events.
func rawSubject(c batpak.Coordinate) string {
	tok := func(s string) string {
		out := ""
		for _, r := range s {
			if r == ':' {
				out += "~3A"
				continue
			}
			out += string(r)
		}
		return out
	}
	return "evt." + tok(c.Scope()) + "." + tok(c.Entity()) + ".1001"
}

// benchRaw publishes messages of size bytes with a message id and, if
// check, the per-entity sequence check an append carries, on the wildcard
// subject of the message's entity.
func benchRaw(b *testing.B, size int, check bool) { benchRawHdr(b, size, check, 0) }

// benchRawHdr adds pad bytes of extra header.
func benchRawHdr(b *testing.B, size int, check bool, pad int) {
	_, nc := benchStore(b)
	subs := make([]string, len(benchCoords))
	ents := make([]string, len(benchCoords))
	for i, c := range benchCoords {
		subs[i] = rawSubject(c)
		ents[i] = "evt.*." + strings.Split(subs[i], ".")[2] + ".*"
	}
	last := make([]uint64, len(benchCoords))
	data := make([]byte, size)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := i % len(benchCoords)
		m := nats.NewMsg(subs[k])
		m.Data = data
		m.Header.Set("Nats-Msg-Id", strconv.Itoa(i))
		if pad > 0 {
			m.Header.Set("Bp-Pad", strings.Repeat("x", pad))
		}
		if check {
			m.Header.Set("Nats-Expected-Last-Subject-Sequence", strconv.FormatUint(last[k], 10))
			m.Header.Set("Nats-Expected-Last-Subject-Sequence-Subject", ents[k])
		}
		r, err := nc.RequestMsg(m, 5*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		var ack struct {
			Seq   uint64          `json:"seq"`
			Error json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal(r.Data, &ack); err != nil || ack.Error != nil {
			b.Fatalf("ack %s: %v", r.Data, err)
		}
		last[k] = ack.Seq
		i++
	}
}

// BenchmarkRawPublish publishes 150 bytes (about an append's record for
// the payload above) with a message id.
func BenchmarkRawPublish(b *testing.B) { benchRaw(b, 150, false) }

// BenchmarkRawPublishCheck adds the per-entity sequence check.
func BenchmarkRawPublishCheck(b *testing.B) { benchRaw(b, 150, true) }

// BenchmarkRawPublishCheckHdr carries about as many header bytes as an
// append (its headers less those of BenchmarkRawPublishCheck).
func BenchmarkRawPublishCheckHdr(b *testing.B) { benchRawHdr(b, 150, true, 150) }
