package typestate_test

import (
	"testing"

	"github.com/batpak-go/batpak/internal/compilefail"
)

func TestIllegalTransitionsDoNotCompile(t *testing.T) {
	compilefail.Run(t, "legal", []compilefail.Case{
		{Name: "illegal_transition", Want: "type typestate.Transition[Closed, Open, struct{}] of open() does not match inferred type typestate.Transition[Locked, To, P]"},
		{Name: "reopen", Want: "type typestate.Transition[Closed, Open, struct{}] of open() does not match inferred type typestate.Transition[Open, To, P]"},
		{Name: "not_a_state", Want: "From (type string) does not satisfy typestate.State (missing method StateName)"},
	})
}
