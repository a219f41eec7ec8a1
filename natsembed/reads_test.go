package natsembed_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/jetstream"
)

// Long reads start with a direct get and continue with consumer fetches
// (jetstream/consume.go). These tests read across both switches — the end
// of the first direct page and the end of a consumer fetch — and check
// that nothing is lost, repeated or reordered there, and that an entity's
// chain is verified across them.

// longReadEvents is more than a direct page plus one consumer fetch.
const longReadEvents = 9000

// fillLong appends longReadEvents events over 3 entities in 3 scopes, in
// atomic batches, and returns their receipts in global order.
func fillLong(t *testing.T, s *jetstream.Store) []batpak.Receipt {
	t.Helper()
	ctx := context.Background()
	coords := []batpak.Coordinate{
		event.MustCoordinate("acct:1", "bank:a"),
		event.MustCoordinate("acct:2", "bank:b"),
		event.MustCoordinate("acct:3", "bank:c"),
	}
	var all []batpak.Receipt
	items := make([]batpak.BatchItem, 0, 500)
	for i := 0; i < longReadEvents; {
		items = items[:0]
		for ; i < longReadEvents && len(items) < 500; i++ {
			items = append(items, batpak.BatchItem{Coord: coords[i%3], Kind: 0x1001, Payload: []byte(fmt.Sprint(i))})
		}
		rs, err := s.AppendBatch(ctx, items)
		if err != nil {
			t.Fatalf("AppendBatch: %v", err)
		}
		all = append(all, rs...)
	}
	return all
}

func TestLongQueries(t *testing.T) {
	s := openStore(t, connect(t, startServer(t)), jetstream.Options{})
	all := fillLong(t, s)
	ctx := context.Background()
	read := func(seq func(func(*batpak.StoredEvent, error) bool)) []*batpak.StoredEvent {
		t.Helper()
		var out []*batpak.StoredEvent
		for ev, err := range seq {
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			out = append(out, ev)
		}
		return out
	}
	got := read(s.Query(ctx, event.AllEvents()))
	if len(got) != len(all) {
		t.Fatalf("Query(all) read %d events, want %d", len(got), len(all))
	}
	for i, ev := range got {
		if ev.ID != all[i].ID || ev.Global != all[i].Global {
			t.Fatalf("Query(all) event %d is %v at %d, want %v at %d", i, ev.ID, ev.Global, all[i].ID, all[i].Global)
		}
	}
	// One entity: a third of the events, its chain checked across the
	// switches (Hash.Prev is filled only where it was checked).
	ents := read(s.Stream(ctx, "acct:2"))
	if len(ents) != longReadEvents/3 {
		t.Fatalf("Stream read %d events, want %d", len(ents), longReadEvents/3)
	}
	for i, ev := range ents {
		if ev.Sequence != uint64(i) {
			t.Fatalf("Stream event %d has sequence %d", i, ev.Sequence)
		}
		if i > 0 && ev.Hash.Prev != ents[i-1].Hash.Self {
			t.Fatalf("Stream event %d: chain not checked against its predecessor", i)
		}
	}
	// A bounded read, as projections do, ends exactly at its bound.
	through := all[5000].Global
	var n int
	err := s.ProjectionLog().Scan(ctx, event.AllEvents(), 0, through, func(ev *batpak.StoredEvent) error {
		n++
		if ev.Global > through {
			return fmt.Errorf("event %d beyond the bound %d", ev.Global, through)
		}
		return nil
	})
	if err != nil || n != 5001 {
		t.Fatalf("Scan through %d: %d events, %v; want 5001", through, n, err)
	}
}

// TestLongCursor reads a long history and live appends with a cursor:
// every event once, in order, and never part of an atomic batch in one
// call — also where the cursor's read-ahead (a consumer fetch's worth)
// ends inside a batch.
func TestLongCursor(t *testing.T) {
	s := openStore(t, connect(t, startServer(t)), jetstream.Options{})
	all := fillLong(t, s)
	ctx := context.Background()
	c, err := s.Cursor(event.AllEvents(), 0)
	if err != nil {
		t.Fatalf("Cursor: %v", err)
	}
	defer c.Close()
	live, err := s.Append(ctx, event.MustCoordinate("acct:9", "bank:z"), 0x1001, []byte("live"))
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	all = append(all, live)
	for i := 0; i < len(all); {
		evs, err := c.NextBatch(ctx, 1000)
		if err != nil {
			t.Fatalf("NextBatch at %d: %v", i, err)
		}
		// fillLong's batches hold 500 events each, from global 1 on.
		if last := evs[len(evs)-1].Global; last <= longReadEvents && last%500 != 0 {
			t.Fatalf("NextBatch returned events %d to %d: it ends inside a batch", evs[0].Global, last)
		}
		for _, ev := range evs {
			if i >= len(all) || ev.ID != all[i].ID {
				t.Fatalf("cursor event %d is %v at %d, want %v", i, ev.ID, ev.Global, all[min(i, len(all)-1)].ID)
			}
			i++
		}
	}
}
