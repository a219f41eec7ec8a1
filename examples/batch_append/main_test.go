package main

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/batpak-go/batpak/examples/internal/backend"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	for _, kind := range backend.Names {
		t.Run(kind, func(t *testing.T) {
			var out strings.Builder
			if err := run(context.Background(), kind, &out); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"deposit caused by withdrawal: true", "rejected at item 0", "events before 3, after 3"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}
