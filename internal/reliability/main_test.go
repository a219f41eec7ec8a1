package reliability_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: a
// closed store must leave none behind (C8). It then prints the summary of
// the reliability figures the tests collected.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(int) { reportFigures() }))
}
