// Package compilefail checks that programs which misuse an API do not
// compile, for the packages whose guarantees are enforced by the type
// system (gatekeeper's unforgeable receipts, typestate's transitions).
package compilefail

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Case is a program under testdata/<Name> that must not compile, and a
// fragment of the compiler's error that says why.
type Case struct {
	Name string
	Want string
}

// Run builds each case with the go tool and fails unless the build fails
// with the expected error; it also builds testdata/<control>, which must
// compile, so that a broken test setup cannot pass as a refused program.
// It is skipped in -short mode and without the go tool.
func Run(t *testing.T, control string, cases []Case) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the go tool")
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			out, ok := build(t, tc.Name)
			if ok {
				t.Fatalf("testdata/%s compiled; it must not", tc.Name)
			}
			if !strings.Contains(out, tc.Want) {
				t.Fatalf("compiler output does not mention %q:\n%s", tc.Want, out)
			}
		})
	}
	t.Run(control+" control", func(t *testing.T) {
		t.Parallel()
		if out, ok := build(t, control); !ok {
			t.Fatalf("the control program does not compile, so the cases above prove nothing:\n%s", out)
		}
	})
}

// build compiles ./testdata/<name> and returns the compiler's output and
// whether the build succeeded. testdata is invisible to ./... patterns, so
// these programs only build when named explicitly.
func build(t *testing.T, name string) (string, bool) {
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
