package kinds_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The examples open stores, which start goroutines; the package's own
// tests start none.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
