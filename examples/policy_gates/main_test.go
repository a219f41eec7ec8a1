package main

import (
	"bytes"
	"testing"
)

// TestRunsToCompletion keeps the example honest under go test ./...
func TestRunsToCompletion(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), t.TempDir(), &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
}
