package jetstream

import (
	"testing"

	"go.uber.org/goleak"
)

// The store's goroutines (appenders, react loops, watchers) are driven by
// the natsembed module's tests against a real server; these in-package
// tests check that nothing they start outlives them either.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
