package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a workload leaves a goroutine
// behind: every store it opens must be closed and every worker joined.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
