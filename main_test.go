package batpak

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: a
// closed store must leave none behind. It then prints the reliability
// figures, if any test collected some.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(int) {
		if ReportFigures != nil {
			ReportFigures()
		}
	}))
}
