package reliability_test

import (
	"context"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/vfs"
)

// TestNoSequenceReuseAfterTailLoss (contract C4): on-write appends are
// acknowledged, then a power loss drops everything not synced. The store
// reopened from what survived numbers new events above every global
// sequence it ever acknowledged, and its ids keep increasing.
func TestNoSequenceReuseAfterTailLoss(t *testing.T) {
	ctx := context.Background()
	mem := vfs.NewMem()
	s, err := batpak.Open("/db", batpak.WithFS(mem), batpak.WithDurability(batpak.OnWrite), batpak.WithSyncEvery(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	c := event.MustCoordinate("player:1", "room:1")
	k := event.MustCustom(1, 1)
	if _, err := s.Append(ctx, c, k, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	var last batpak.Receipt
	for i := 1; i <= 50; i++ { // acknowledged on write, never synced
		if last, err = s.Append(ctx, c, k, i); err != nil {
			t.Fatal(err)
		}
	}
	crashed := mem.CrashClone(vfs.CrashOptions{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2, err := batpak.Open("/db", batpak.WithFS(crashed))
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := s2.Stats().Events; got != 1 {
		t.Fatalf("the crash should have dropped the unsynced events: %d survived", got)
	}
	r, err := s2.Append(ctx, c, k, "after")
	if err != nil {
		t.Fatal(err)
	}
	if r.Global <= last.Global {
		t.Fatalf("global %d reused after tail loss (%d was acknowledged)", r.Global, last.Global)
	}
	if r.ID.Compare(last.ID) <= 0 {
		t.Fatal("event id went backwards after tail loss")
	}
}

// TestCleanReopenLeavesNoGap: after Close, numbering continues at the next
// global sequence.
func TestCleanReopenLeavesNoGap(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c := event.MustCoordinate("player:1", "room:1")
	k := event.MustCustom(1, 1)
	var last batpak.Receipt
	for round := 0; round < 3; round++ {
		s, err := batpak.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Append(ctx, c, k, round)
		if err != nil {
			t.Fatal(err)
		}
		if round > 0 && r.Global != last.Global+1 {
			t.Fatalf("round %d: global %d after %d", round, r.Global, last.Global)
		}
		last = r
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
