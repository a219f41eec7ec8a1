package snapshot

import (
	"testing"

	"go.uber.org/goleak"
)

// The package starts no goroutine, but the tests that recover a store to
// copy it run reader.Recover, which does.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
