package batpak_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/reader"
)

func ExampleStore_ByCorrelation() {
	dir, cleanup := exampleDir()
	defer cleanup()
	store, err := batpak.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	hall := event.MustCoordinate("player:alice", "room:hall")
	gate := event.MustCoordinate("player:bob", "room:gate")

	// A workflow: alice moves, bob answers (caused by her move), alice
	// speaks (caused by bob's answer). Another event is not part of it.
	root, err := store.Append(ctx, hall, moved, Move{From: "gate", To: "hall"})
	if err != nil {
		log.Fatal(err)
	}
	answer, err := store.AppendReaction(ctx, gate, spoke, "welcome", root.ID, root.ID)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := store.Append(ctx, gate, moved, Move{From: "gate", To: "yard"}); err != nil {
		log.Fatal(err)
	}
	if _, err := store.AppendReaction(ctx, hall, spoke, "thanks", root.ID, answer.ID); err != nil {
		log.Fatal(err)
	}

	for ev, err := range store.ByCorrelation(ctx, root.ID) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ev.Global, ev.Coordinate.Entity(), ev.Causation == answer.ID)
	}
	// Output:
	// 1 player:alice false
	// 2 player:bob false
	// 4 player:alice true
}

// The correlation index answers like a filter over the whole log, whatever
// the shape of the workflows, after appends, batches, a reopen from the
// checkpoint and a rebuild by scanning.
func TestByCorrelationMatchesAFullScan(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, dir)
	kind := event.MustCustom(1, 1)
	var roots []batpak.Receipt
	for i := range 300 {
		c := coord(t, fmt.Sprintf("e%d", i%7), fmt.Sprintf("s%d", i%3))
		switch {
		case i%5 == 0 || len(roots) == 0: // a new workflow
			roots = append(roots, mustAppend(t, s, c, kind, i))
		case i%11 == 0: // a batch joining an older workflow
			r := roots[i%len(roots)]
			opts := batpak.AppendOptions{Correlation: r.ID, Causation: r.ID}
			if _, err := s.AppendBatch(ctx, []batpak.BatchItem{{Coord: c, Kind: kind, Payload: i, Options: opts}, {Coord: c, Kind: kind, Payload: i + 1, Options: opts}}); err != nil {
				t.Fatal(err)
			}
		default:
			r := roots[len(roots)-1-i%3%len(roots)]
			if _, err := s.AppendReaction(ctx, c, kind, i, r.ID, r.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A workflow id that names no event, and an event that belongs to
	// another workflow: its id is not a workflow of its own.
	orphan := event.NewID()
	mustAppendWith(t, s, kind, batpak.AppendOptions{Correlation: orphan})
	member := mustAppendWith(t, s, kind, batpak.AppendOptions{Correlation: roots[0].ID})

	check := func(when string) {
		t.Helper()
		byCorr := map[batpak.ID][]uint64{}
		for _, ev := range all(t, s) {
			byCorr[ev.Correlation] = append(byCorr[ev.Correlation], ev.Global)
		}
		ids := []batpak.ID{orphan, member.ID, event.NewID()}
		for _, r := range roots {
			ids = append(ids, r.ID)
		}
		for _, id := range ids {
			var got []uint64
			for _, ev := range collect(t, s.ByCorrelation(ctx, id)) {
				got = append(got, ev.Global)
			}
			if !slices.Equal(got, byCorr[id]) {
				t.Fatalf("%s: ByCorrelation(%v) = %v, a scan finds %v", when, id, got, byCorr[id])
			}
		}
	}
	check("live")
	closeStore(t, s)
	s = openStore(t, dir)
	if !s.Stats().Recovery.Checkpoint {
		t.Fatalf("reopen did not use the checkpoint: %s", s.Stats().Recovery)
	}
	check("from the checkpoint")
	closeStore(t, s)
	if err := os.Remove(filepath.Join(dir, reader.CheckpointFile)); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	defer closeStore(t, s)
	check("rebuilt by scanning")
}

func mustAppendWith(t *testing.T, s *batpak.Store, kind batpak.EventKind, opts batpak.AppendOptions) batpak.Receipt {
	t.Helper()
	r, err := s.AppendWithOptions(context.Background(), event.MustCoordinate("other", "s"), kind, "x", opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
