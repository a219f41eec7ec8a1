package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

// binDir holds the batpak-serve binary the process tests build (once).
var binDir string

// TestMain fails the package's tests if one leaves a goroutine behind (a
// live tail, a server, a browser's pipes), and removes the built binary.
func TestMain(m *testing.M) {
	var err error
	if binDir, err = os.MkdirTemp("", "batpak-serve-test-"); err != nil {
		panic(err)
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(func(int) { os.RemoveAll(binDir) }))
}

var (
	buildOnce sync.Once
	buildErr  error
)

// binary builds this command, as go install would, once per test run, and
// returns its path.
func binary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(binDir, "batpak-serve")
	buildOnce.Do(func() {
		out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
		if err != nil {
			buildErr = &buildError{err: err, out: string(out)}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return bin
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + e.out }
