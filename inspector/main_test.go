package inspector_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if one leaves a goroutine behind: a
// live tail that outlives its client, its inspector or its store.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
