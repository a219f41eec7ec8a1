package natsembed_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine outlives them: a shut
// down server and a closed store leave none behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
