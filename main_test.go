package batpak

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: a
// closed store must leave none behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
