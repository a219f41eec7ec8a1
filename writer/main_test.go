package writer

import (
	"testing"

	"go.uber.org/goleak"
)

// The run-loop tests start the actors' goroutines: none may outlive a test.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
