package main

import (
	"context"
	"testing"

	"go.uber.org/goleak"

	"github.com/batpak-go/batpak/examples/internal/backend"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	for _, kind := range backend.Names {
		t.Run(kind, func(t *testing.T) {
			if err := run(context.Background(), kind, t.TempDir()); err != nil {
				t.Fatal(err)
			}
		})
	}
}
