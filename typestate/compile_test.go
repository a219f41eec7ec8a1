package typestate_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// buildCase compiles ./testdata/<name> with the go tool and returns the
// compiler's output and whether the build succeeded. testdata is invisible to
// ./... patterns, so these programs only build when named explicitly.
func buildCase(t *testing.T, name string) (string, bool) {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH")
	}
	out, err := exec.Command(gobin, "build", "-o", os.DevNull, "./testdata/"+name).CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("running go build: %v", err)
		}
		return string(out), false
	}
	return string(out), true
}

func TestIllegalTransitionsDoNotCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go tool")
	}
	tests := []struct {
		name string
		want string // a fragment of the compiler's error
	}{
		{"illegal_transition", "type typestate.Transition[Closed, Open, struct{}] of open() does not match inferred type typestate.Transition[Locked, To, P]"},
		{"reopen", "type typestate.Transition[Closed, Open, struct{}] of open() does not match inferred type typestate.Transition[Open, To, P]"},
		{"not_a_state", "From (type string) does not satisfy typestate.State (missing method StateName)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, ok := buildCase(t, tt.name)
			if ok {
				t.Fatalf("testdata/%s compiled; it must not", tt.name)
			}
			if !strings.Contains(out, tt.want) {
				t.Fatalf("compiler output does not mention %q:\n%s", tt.want, out)
			}
		})
	}
	t.Run("legal control", func(t *testing.T) {
		t.Parallel()
		if out, ok := buildCase(t, "legal"); !ok {
			t.Fatalf("the control program does not compile, so the cases above prove nothing:\n%s", out)
		}
	})
}
