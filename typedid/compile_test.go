package typedid_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestMixingIDTypesDoesNotCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go tool")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH")
	}
	build := func(name string) (string, error) {
		out, err := exec.Command(gobin, "build", "-o", os.DevNull, "./testdata/"+name).CombinedOutput()
		return string(out), err
	}
	if out, err := build("legal"); err != nil {
		t.Fatalf("the control program does not compile:\n%s", out)
	}
	out, err := build("mixed")
	if err == nil {
		t.Fatal("testdata/mixed compiled; it must not")
	}
	const want = "cannot use r (variable of struct type typedid.ID[room]) as typedid.ID[player] value"
	if !strings.Contains(out, want) {
		t.Fatalf("compiler output does not mention %q:\n%s", want, out)
	}
}
