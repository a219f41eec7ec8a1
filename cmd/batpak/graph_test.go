package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batpak-go/batpak"
)

// edge is a DOT edge from cause to effect.
func edge(cause, effect batpak.Receipt) string {
	return fmt.Sprintf("%q -> %q;", cause.ID.String(), effect.ID.String())
}

func TestGraphDrawsTheReactionChain(t *testing.T) {
	f := writeFixture(t)
	wantEdges := []string{edge(f.root, f.paid), edge(f.paid, f.shipped), edge(f.paid, f.mailed)}
	for _, by := range [][]string{
		{"--correlation", f.root.Correlation.String()},
		{"--event", f.shipped.ID.String()},
	} {
		t.Run(by[0], func(t *testing.T) {
			out, _ := cli(t, exitOK, append([]string{"graph", f.dir}, by...)...)
			if !strings.HasPrefix(out, "digraph batpak {") || !strings.HasSuffix(out, "}\n") {
				t.Errorf("not a digraph:\n%s", out)
			}
			for _, e := range wantEdges {
				if !strings.Contains(out, e) {
					t.Errorf("no edge %s in:\n%s", e, out)
				}
			}
			if n := strings.Count(out, " -> "); n != len(wantEdges) {
				t.Errorf("%d edges, want %d:\n%s", n, len(wantEdges), out)
			}
			if n := strings.Count(out, "[label="); n != 4 {
				t.Errorf("%d nodes, want the workflow's 4:\n%s", n, out)
			}
			if !strings.Contains(out, "payment:1@shop") {
				t.Errorf("nodes are not labelled with their coordinates:\n%s", out)
			}
		})
	}
	out, _ := cli(t, exitOK, "graph", f.dir, "--event", f.shipped.ID.String())
	if !strings.Contains(out, fmt.Sprintf("%q [label=", f.shipped.ID.String())) || !strings.Contains(out, "filled") {
		t.Errorf("the --event node is not marked:\n%s", out)
	}
}

func TestGraphOutFile(t *testing.T) {
	f := writeFixture(t)
	corr := f.root.Correlation.String()
	out := t.TempDir()

	dot := filepath.Join(out, "g.dot")
	cli(t, exitOK, "graph", f.dir, "--correlation", corr, "--out", dot)
	if b, err := os.ReadFile(dot); err != nil || !strings.Contains(string(b), edge(f.root, f.paid)) {
		t.Errorf("g.dot: %v\n%s", err, b)
	}

	// No Graphviz on PATH: a clear error.
	path := os.Getenv("PATH")
	t.Setenv("PATH", t.TempDir())
	_, errOut := cli(t, exitFailure, "graph", f.dir, "--correlation", corr, "--out", filepath.Join(out, "g.svg"))
	if !strings.Contains(errOut, "Graphviz's dot program, which is not on PATH") {
		t.Errorf("stderr:\n%s", errOut)
	}

	// A stand-in dot that copies its input to the -o file.
	bin := t.TempDir()
	script := "#!/bin/sh\n[ \"$1\" = -Tpng ] && [ \"$2\" = -o ] && exec cat > \"$3\"\nexit 3\n"
	if err := os.WriteFile(filepath.Join(bin, "dot"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+path) // the stand-in first; cat from the rest
	png := filepath.Join(out, "g.png")
	_, errOut = cli(t, exitOK, "graph", f.dir, "--correlation", corr, "--out", png)
	if b, err := os.ReadFile(png); err != nil || !strings.HasPrefix(string(b), "digraph") {
		t.Errorf("g.png from the stand-in dot: %v %q", err, b)
	}
	if !strings.Contains(errOut, "4 events, 3 causal links") {
		t.Errorf("stderr: %s", errOut)
	}
	// dot failing: its status and message come back.
	_, errOut = cli(t, exitFailure, "graph", f.dir, "--correlation", corr, "--out", filepath.Join(out, "g.svg"))
	if !strings.Contains(errOut, "exit status 3") {
		t.Errorf("stderr: %s", errOut)
	}
}

func TestGraphErrors(t *testing.T) {
	f := writeFixture(t)
	corr := f.root.Correlation.String()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"graph", f.dir}, exitUsage, "exactly one of"},
		{[]string{"graph", f.dir, "--correlation", corr, "--event", corr}, exitUsage, "exactly one of"},
		{[]string{"graph", f.dir, "--correlation", "x"}, exitUsage, "not an event id"},
		{[]string{"graph", f.dir, "--correlation", corr, "--out", "g.txt"}, exitUsage, ".dot, .svg, .png or .pdf"},
		{[]string{"graph", f.dir, "--correlation", batpak.ID{1}.String()}, exitFailure, "no event has correlation"},
		{[]string{"graph", f.dir, "--event", batpak.ID{1}.String()}, exitFailure, "event not found"},
	} {
		_, errOut := cli(t, tc.code, tc.args...)
		if !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: stderr lacks %q:\n%s", tc.args, tc.want, errOut)
		}
	}
}
