package batpakrust_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine outlives them: the
// imports open batpak-go stores, whose actors Close must join.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
