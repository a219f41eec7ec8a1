package natsembed_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/jetstream"
)

var kindStep = event.MustCustom(0x1, 0x001)

// TestLostAcknowledgements makes every other publish acknowledgement get
// lost after the server stored the message: the store retries with the same
// check (and message id, for keyed appends and batches), so each append and
// batch is stored exactly once and its receipt names the stored event.
func TestLostAcknowledgements(t *testing.T) {
	srv := startServer(t)
	var calls atomic.Int64
	s := openStore(t, connect(t, srv), jetstream.Options{
		LoseAcks: func() bool { return calls.Add(1)%2 == 1 },
	})
	ctx := context.Background()
	seen := map[uint64]batpak.Receipt{}
	record := func(r batpak.Receipt) {
		t.Helper()
		if prev, dup := seen[r.Global]; dup {
			t.Fatalf("two receipts for global %d: %v and %v", r.Global, prev.ID, r.ID)
		}
		seen[r.Global] = r
	}
	for i := range 30 {
		c := event.MustCoordinate(fmt.Sprintf("e:%d", i%3), "s")
		r, err := s.Append(ctx, c, kindStep, i)
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		if r.Sequence != uint64(i/3) {
			t.Fatalf("append %d: sequence %d, want %d", i, r.Sequence, i/3)
		}
		record(r)
	}
	for i := range 10 {
		rs, err := s.AppendBatch(ctx, []batpak.BatchItem{
			{Coord: event.MustCoordinate("e:0", "s"), Kind: kindStep, Payload: i},
			{Coord: event.MustCoordinate("e:9", "s"), Kind: kindStep, Payload: i},
		})
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		for _, r := range rs {
			record(r)
		}
	}
	r, err := s.AppendWithOptions(ctx, event.MustCoordinate("e:1", "s"), kindStep, 0, event.AppendOptions{IdempotencyKey: "k"})
	if err != nil {
		t.Fatalf("keyed append: %v", err)
	}
	record(r)
	if calls.Load() < 40 {
		t.Fatalf("only %d acknowledgements seen: the fault did not run", calls.Load())
	}
	rep, err := s.Verify(ctx)
	if err != nil || rep.Problem != nil {
		t.Fatalf("Verify: %v %v", err, rep.Problem)
	}
	if rep.Events != len(seen) {
		t.Fatalf("%d events stored, %d acknowledged", rep.Events, len(seen))
	}
	for g, r := range seen {
		ev, err := s.Get(ctx, r.ID)
		if err != nil || ev.Global != g {
			t.Fatalf("Get(%v): %v at %d, receipt says %d", r.ID, err, ev.Global, g)
		}
	}
}

// TestConcurrentWritersOneEntity has two stores (two clients) append to the
// same entities at once: the server's per-entity check makes each rebuild
// on the other's events, and the result is gapless and chained.
func TestConcurrentWritersOneEntity(t *testing.T) {
	srv := startServer(t)
	o := jetstream.Options{Stream: "RACE", Subject: "race"}
	a := openStore(t, connect(t, srv), o)
	b := openStore(t, connect(t, srv), o)
	ctx := context.Background()
	errc := make(chan error, 2)
	for _, s := range []*jetstream.Store{a, b} {
		go func() {
			for i := range 100 {
				if _, err := s.Append(ctx, event.MustCoordinate(fmt.Sprintf("hot:%d", i%2), "s"), kindStep, i); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	rep, err := a.Verify(ctx)
	if err != nil || rep.Problem != nil || rep.Events != 200 || rep.Entities != 2 {
		t.Fatalf("Verify: %v %+v", err, rep)
	}
}

// TestGetThroughIndex reads, from a second client, events the first
// appended with a clock years behind the server's: the fallback scan
// (around the ids' timestamps) cannot find them, so Get must succeed
// through the id index the first client wrote.
func TestGetThroughIndex(t *testing.T) {
	srv := startServer(t)
	past := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	o := jetstream.Options{Stream: "IDX", Subject: "idx", Clock: func() time.Time { return past }}
	a := openStore(t, connect(t, srv), o)
	ctx := context.Background()
	var rs []batpak.Receipt
	for i := range 600 { // more than one chunk
		r, err := a.Append(ctx, event.MustCoordinate(fmt.Sprintf("e:%d", i%7), "s"), kindStep, i)
		if err != nil {
			t.Fatalf("append: %v", err)
		}
		rs = append(rs, r)
	}
	if err := a.Close(); err != nil { // writes the open chunk
		t.Fatalf("Close: %v", err)
	}
	o.Clock = nil
	b := openStore(t, connect(t, srv), o)
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		ev, err := b.Get(ctx, r.ID)
		if err != nil || ev.ID != r.ID || ev.Global != r.Global {
			t.Fatalf("Get(%v) from another client: %v", r.ID, err)
		}
	}
	if _, err := b.Get(ctx, event.NewID()); !errors.Is(err, batpak.ErrNotFound) {
		t.Fatalf("Get of an unknown id: %v", err)
	}
}
