package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/internal/benchkit"
)

// tinyScale, on top of --quick, keeps each workload to a few hundred
// events.
const tinyScale = "0.02"

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestBenchJetStream runs every JetStream workload at a tiny scale on an
// embedded server and checks each reports its figures, without gaps.
func TestBenchJetStream(t *testing.T) {
	if testing.Short() {
		t.Skip("starts NATS servers")
	}
	code, out, stderr := runCLI(t, "--quick", "--scale", tinyScale, "--json", "--dir", t.TempDir())
	require.Equal(t, exitOK, code, stderr)
	got := map[string][]string{}
	for line := range strings.Lines(out) {
		var f benchkit.JSONFigure
		require.NoError(t, json.Unmarshal([]byte(line), &f), line)
		got[f.Workload] = append(got[f.Workload], f.Metric)
	}
	want := map[string][]string{
		"W1raw":      {"events_per_sec", "p50_us", "p99_us"},
		"W1rawcheck": {"events_per_sec", "p50_us", "p99_us"},
		"W1":         {"events_per_sec", "p50_us", "p99_us", "time_vs_raw", "time_vs_rawcheck", "rawcheck_time_vs_raw"},
		"W2":         {"events_per_sec", "p50_us", "p99_us"},
		"W3":         {"events_per_sec"},
		"W5":         {"ops_per_sec_get", "ops_per_sec_stream", "ops_per_sec_scope"},
		"W8":         {"events_per_sec", "events_per_sec_slowest", "events_per_sec_catchup", "gaps"},
	}
	assert.Equal(t, want, got)
	assert.Contains(t, out, `"workload":"W8","metric":"gaps","value":0,`, "W8 reports gaps")
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--replicas", "9"},
		{"--replicas", "0"},
		{"--only", "W4"}, // the embedded store's only
		{"--fast"},
		{"stray"},
	} {
		code, _, _ := runCLI(t, args...)
		assert.Equal(t, exitUsage, code, "%v", args)
	}
	code, out, _ := runCLI(t, "--list")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "W1raw")
	code, _, stderr := runCLI(t, "--help")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stderr, "-sync-always")
}
