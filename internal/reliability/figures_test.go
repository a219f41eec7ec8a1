package reliability_test

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// The reliability figures: each family reports its counts with figure,
// which logs them (go test -v shows them with the test) and collects them
// for one summary that TestMain prints after the run, in test order:
//
//	go test -count=1 -v ./internal/reliability
//	BATPAK_LONG=1 go test -race -count=1 -timeout 30m ./internal/reliability

var figures struct {
	mu    sync.Mutex
	lines []string
}

// reportFigures prints the summary, if any test collected figures;
// TestMain calls it once all tests ran.
func reportFigures() {
	figures.mu.Lock()
	defer figures.mu.Unlock()
	if len(figures.lines) == 0 {
		return
	}
	mode := "default mode"
	if reliabilityLong() {
		mode = "long mode (BATPAK_LONG)"
	}
	fmt.Fprintf(os.Stdout, "reliability figures, %s:\n", mode)
	for _, l := range figures.lines {
		fmt.Fprintf(os.Stdout, "  %s\n", l)
	}
}

// reliabilityLong reports whether the long sweeps run (BATPAK_LONG=1).
func reliabilityLong() bool { return os.Getenv("BATPAK_LONG") != "" }

// figure logs one line of figures and keeps it for the summary.
func figure(t testing.TB, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf(format, args...)
	t.Log("figures: " + line)
	figures.mu.Lock()
	figures.lines = append(figures.lines, t.Name()+": "+line)
	figures.mu.Unlock()
}
