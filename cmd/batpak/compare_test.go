package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCompareShowsEveryFigureWithRatioAndVerdict(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.jsonl")
	b := filepath.Join(dir, "b.jsonl")
	require.NoError(t, os.WriteFile(a, []byte(`{"workload":"W1","metric":"events_per_sec","value":400000,"unit":"events/s","runs":3}
{"workload":"W1","metric":"p99_us","value":40,"unit":"µs","runs":3}
{"workload":"W1","metric":"bytes_per_event","value":107,"unit":"bytes/event","runs":3}
{"workload":"W7","metric":"lost","value":0,"unit":"events","runs":3}
{"workload":"W9","metric":"mystery","value":5,"unit":"things","runs":1}
{"workload":"W4","metric":"ms_scan","value":20,"unit":"ms","runs":1}
`), 0o644))
	require.NoError(t, os.WriteFile(b, []byte(`{"workload":"W1","metric":"events_per_sec","value":500000,"unit":"events/s","runs":3}
{"workload":"W1","metric":"p99_us","value":50,"unit":"µs","runs":3}
{"workload":"W1","metric":"bytes_per_event","value":107.5,"unit":"bytes/event","runs":3}
{"workload":"W7","metric":"lost","value":0,"unit":"events","runs":3}
{"workload":"W9","metric":"mystery","value":10,"unit":"things","runs":1}
{"workload":"W8","metric":"gaps","value":0,"unit":"events","runs":1}
`), 0o644))
	out, _ := cli(t, exitOK, "bench", "--compare", a, b)
	row := func(prefix string) string {
		for _, l := range lines(out) {
			if strings.HasPrefix(strings.Join(strings.Fields(l), " "), prefix) {
				return strings.Join(strings.Fields(l), " ")
			}
		}
		t.Fatalf("no row %q in:\n%s", prefix, out)
		return ""
	}
	assert.Equal(t, "W1 events_per_sec events/s 400,000 500,000 1.250 better", row("W1 events_per_sec"))
	assert.Equal(t, "W1 p99_us µs 40.00 50.00 1.250 WORSE", row("W1 p99_us"), "more microseconds is worse")
	assert.Equal(t, "W1 bytes_per_event bytes/event 107.0 107.5 1.005 same", row("W1 bytes_per_event"))
	assert.Equal(t, "W7 lost events 0.000 0.000 1.00 same", row("W7 lost"))
	assert.Equal(t, "W9 mystery things 5.00 10.00 2.000", row("W9 mystery"), "no direction known: no verdict")
	assert.Equal(t, "W4 ms_scan ms 20.00 — only in A", row("W4 ms_scan"))
	assert.Equal(t, "W8 gaps events — 0.000 only in B", row("W8 gaps"))
	assert.Contains(t, out, "1 better, 1 worse, 7 compared")

	cli(t, exitUsage, "bench", "--compare", a)
	bad := filepath.Join(dir, "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte("W1 events_per_sec 5\n"), 0o644))
	_, errOut := cli(t, exitFailure, "bench", "--compare", a, bad)
	assert.Contains(t, errOut, "bad.jsonl:1: not a line of bench --json")
}

// --baseline prints every figure of a run beside a saved run's, with the
// ratio; with --json the contract's lines stay alone on stdout and the
// comparison goes to stderr. A bad baseline fails before anything runs.
func TestBenchBaselinePrintsEveryFigureWithItsRatio(t *testing.T) {
	dir := t.TempDir()
	run := []string{"bench", "--quick", "--scale", tinyScale, "--only", "W5h", "--dir", dir}
	saved, _ := cli(t, exitOK, append(run, "--json")...)
	base := filepath.Join(dir, "base.jsonl")
	require.NoError(t, os.WriteFile(base, []byte(saved), 0o644))
	figs := parseJSONLines(t, saved)
	require.Equal(t, wantMetrics["W5h"], figs["W5h"])

	out, _ := cli(t, exitOK, append(run, "--baseline", base)...)
	assert.Contains(t, out, "against the baseline "+base)
	_, comparison, ok := strings.Cut(out, "against the baseline")
	require.True(t, ok, "no comparison after the table in:\n%s", out)
	for _, m := range wantMetrics["W5h"] {
		var f []string
		for _, l := range lines(comparison) {
			if g := strings.Fields(l); len(g) >= 6 && g[0] == "W5h" && g[1] == m {
				f = g
			}
		}
		require.NotNil(t, f, "no comparison row for %s in:\n%s", m, out)
		assert.Regexp(t, `^[0-9]+(\.[0-9]+)?$`, f[5], "the ratio of %s", m)
	}
	assert.Contains(t, out, "2 compared with the baseline")

	jsonOut, errOut := cli(t, exitOK, append(run, "--json", "--baseline", base)...)
	assert.Equal(t, wantMetrics["W5h"], parseJSONLines(t, jsonOut)["W5h"], "stdout stays the JSON contract")
	assert.Contains(t, errOut, "2 compared with the baseline")

	bad := filepath.Join(dir, "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte("not json\n"), 0o644))
	_, errOut = cli(t, exitFailure, append(run, "--baseline", bad)...)
	assert.Contains(t, errOut, "--baseline: "+bad+":1: not a line of bench --json")
	assert.NotContains(t, errOut, "bench: W5h run", "nothing runs with a bad baseline")
}
