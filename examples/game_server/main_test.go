package main

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/batpak-go/batpak/examples/internal/backend"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func TestGameServerMovesEveryoneAndAgreesWithItsProjection(t *testing.T) {
	for _, kind := range backend.Names {
		t.Run(kind, func(t *testing.T) { movesEveryone(t, kind) })
	}
}

func movesEveryone(t *testing.T, kind string) {
	var out strings.Builder
	// Few players, many workers: moves of one player collide.
	rep, err := run(context.Background(), config{backend: kind, players: 3, moves: 300, workers: 8}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if rep.Moves != 300 {
		t.Errorf("moves = %d, want 300", rep.Moves)
	}
	if got := sum(rep.Occupancy); got != 3 {
		t.Errorf("occupancy counts %d players, want 3: %v", got, rep.Occupancy)
	}
	if rep.Arrivals+rep.Dropped != 303 { // 3 joins + 300 moves
		t.Errorf("feeds saw %d and dropped %d, want 303 in all", rep.Arrivals, rep.Dropped)
	}
	for _, want := range []string{"moves/s", "conflicts retried", "room feeds:", "check: the projection agrees"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	t.Logf("\n%s", out.String())
}

func TestGameServerKeepsItsStoreInDirAndAddsNewPlayers(t *testing.T) {
	for _, kind := range backend.Names {
		t.Run(kind, func(t *testing.T) { keepsItsStore(t, kind) })
	}
}

func keepsItsStore(t *testing.T, kind string) {
	dir := t.TempDir()
	cfg := config{backend: kind, dir: dir, players: 5, moves: 20, workers: 2, onWrite: true}
	if _, err := run(context.Background(), cfg, new(strings.Builder)); err != nil {
		t.Fatal(err)
	}
	// Reopened with three more players: only they join.
	cfg.players = 8
	var out strings.Builder
	rep, err := run(context.Background(), cfg, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "reopened a store of 25 events") {
		t.Errorf("second run did not reopen the store:\n%s", out.String())
	}
	if got := sum(rep.Occupancy); got != 8 {
		t.Errorf("occupancy counts %d players, want 8", got)
	}
	if rep.Arrivals+rep.Dropped != 23 { // 3 joins + 20 moves
		t.Errorf("feeds saw %d and dropped %d, want 23 in all", rep.Arrivals, rep.Dropped)
	}
}

func TestGameServerRejectsBadFlags(t *testing.T) {
	if _, err := run(context.Background(), config{players: 0, workers: 1}, new(strings.Builder)); err == nil {
		t.Error("run with 0 players succeeded")
	}
}

func TestGameServerDuelIsOneCausalChain(t *testing.T) {
	for _, kind := range backend.Names {
		t.Run(kind, func(t *testing.T) { duelIsOneChain(t, kind) })
	}
}

func duelIsOneChain(t *testing.T, kind string) {
	var out strings.Builder
	rep, err := run(context.Background(), config{backend: kind, players: 2, moves: 10, workers: 1, duel: true}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(rep.Duel) != 5 {
		t.Fatalf("duel of %d events, want 5:\n%s", len(rep.Duel), out.String())
	}
	for i, r := range rep.Duel {
		if r.Correlation != rep.Duel[0].ID {
			t.Errorf("event %d: correlation %v, want the challenge %v", i, r.Correlation, rep.Duel[0].ID)
		}
		if i > 0 && r.Causation != rep.Duel[i-1].ID {
			t.Errorf("event %d: caused by %v, want the event before, %v", i, r.Causation, rep.Duel[i-1].ID)
		}
	}
	if kind == backend.Embedded && !strings.Contains(out.String(), "batpak graph") {
		t.Errorf("output does not say how to draw the duel:\n%s", out.String())
	}
}
