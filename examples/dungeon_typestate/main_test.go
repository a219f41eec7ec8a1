package main

import (
	"bytes"
	"testing"

	"go.uber.org/goleak"

	"github.com/batpak-go/batpak/examples/internal/backend"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRunsToCompletion keeps the example honest under go test, on each
// backend.
func TestRunsToCompletion(t *testing.T) {
	for _, kind := range backend.Names {
		t.Run(kind, func(t *testing.T) {
			var out bytes.Buffer
			if err := play(t.Context(), kind, t.TempDir(), &out); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
		})
	}
}
