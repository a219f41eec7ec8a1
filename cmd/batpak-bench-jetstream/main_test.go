package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the tests if servers or stores leave goroutines behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
