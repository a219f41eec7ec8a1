package compact

import (
	"testing"

	"go.uber.org/goleak"
)

// The package starts no goroutine, but the tests that recover a store to
// apply a compaction to it run reader.Recover, which does.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
