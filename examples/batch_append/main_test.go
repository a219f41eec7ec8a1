package main

import (
	"os"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	if err := run(f); err != nil {
		t.Fatal(err)
	}
	out, _ := os.ReadFile(f.Name())
	for _, want := range []string{"deposit caused by withdrawal: true", "rejected at item 0", "events before 3, after 3"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
