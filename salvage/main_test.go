package salvage_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine outlives them (the
// tests open the stores they write and rescue).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
