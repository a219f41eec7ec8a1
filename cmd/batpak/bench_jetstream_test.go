package main

import (
	"strings"
	"testing"
)

// TestBenchJetStream runs every JetStream workload at a tiny scale on an
// embedded server and checks each reports its figures, without gaps.
func TestBenchJetStream(t *testing.T) {
	if testing.Short() {
		t.Skip("starts NATS servers")
	}
	code, out, stderr := runCLI(t, "bench", "--backend", "jetstream", "--quick", "--scale", tinyScale, "--json", "--dir", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := parseJSONLines(t, out)
	want := map[string][]string{
		"W1raw":      {"events_per_sec", "p50_us", "p99_us"},
		"W1rawcheck": {"events_per_sec", "p50_us", "p99_us"},
		"W1":         {"events_per_sec", "p50_us", "p99_us", "time_vs_raw", "time_vs_rawcheck", "rawcheck_time_vs_raw"},
		"W2":         {"events_per_sec", "p50_us", "p99_us"},
		"W3":         {"events_per_sec"},
		"W5":         {"ops_per_sec_get", "ops_per_sec_stream", "ops_per_sec_scope"},
		"W8":         {"events_per_sec", "events_per_sec_slowest", "events_per_sec_catchup", "gaps"},
	}
	for w, metrics := range want {
		if strings.Join(got[w], ",") != strings.Join(metrics, ",") {
			t.Errorf("%s reported %v, want %v", w, got[w], metrics)
		}
	}
	if !strings.Contains(out, `"workload":"W8","metric":"gaps","value":0,`) {
		t.Errorf("W8 reports gaps:\n%s", out)
	}
}

func TestBenchBackendFlags(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--backend", "nope"},
		{"bench", "--replicas", "3"},
		{"bench", "--backend", "jetstream", "--replicas", "9"},
	} {
		if code, _, _ := runCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)", args, code)
		}
	}
	code, out, _ := runCLI(t, "bench", "--backend", "jetstream", "--list")
	if code != 0 || !strings.Contains(out, "W1raw") {
		t.Errorf("--list: exit %d\n%s", code, out)
	}
}
