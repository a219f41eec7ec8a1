package main

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/batpak-go/batpak/examples/internal/backend"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestQuickstartRuns runs the example end to end on each backend.
func TestQuickstartRuns(t *testing.T) {
	want := `appended player:alice@room:dungeon: sequence 0, global 1
appended player:alice@room:dungeon: sequence 1, global 2
#0 gate -> hall (chain ok: true)
#1 hall -> crypt (chain ok: true)
closed
`
	for _, kind := range backend.Names {
		t.Run(kind, func(t *testing.T) {
			var out strings.Builder
			if err := run(context.Background(), kind, &out); err != nil {
				t.Fatal(err)
			}
			if out.String() != want {
				t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
			}
		})
	}
}
