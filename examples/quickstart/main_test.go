package main

import "testing"

// TestQuickstartRuns runs the example end to end; it calls log.Fatal (and
// so fails the test binary) on any error.
func TestQuickstartRuns(t *testing.T) { main() }
