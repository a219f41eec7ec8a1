package spatial_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The example opens a store, whose goroutines must all be gone after it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
