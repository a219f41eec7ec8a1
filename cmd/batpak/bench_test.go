package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/batpak-go/batpak/internal/benchkit"
)

// tinyScale, on top of --quick, makes the whole bench finish in a second
// or two, race detector included.
const tinyScale = "0.02"

// wantMetrics are the figures each workload must report (the workloads'
// own tests, in internal/benchkit, check the same of each alone).
var wantMetrics = map[string][]string{
	"W0":  {"fsyncs_per_sec", "mb_per_sec"},
	"W1":  {"events_per_sec", "p50_us", "p99_us", "bytes_per_event", "allocs_per_op", "allocs_per_op_net"},
	"W1p": {"events_per_sec"},
	"W2":  {"events_per_sec", "p50_us", "p99_us", "events_per_fsync", "limit_ratio"},
	"W2x": {"events_per_sec", "p50_us", "p99_us", "events_per_fsync"},
	"W3":  {"events_per_sec"},
	"W4":  {"ms_checkpoint", "rss_bytes_per_event", "ms_rebuild", "rss_bytes_per_event_rebuild", "bytes_per_event", "bytes_per_event_checkpoint"},
	"W5":  {"ops_per_sec_get", "ops_per_sec_stream", "ops_per_sec_scope"},
	"W5h": {"ops_per_sec_stream", "ops_per_sec_scope"},
	"W6":  {"ms_nocache", "ms_cached"},
	"W7":  {"events_per_sec", "events_per_sec_slowest", "lost"},
	"W8":  {"events_per_sec", "events_per_sec_slowest", "events_per_sec_catchup", "gaps"},
	"W9": {"ticks_per_sec", "p50_us", "p99_us", "deliveries_per_sec", "ticks_per_sec_max", "p50_us_max", "p99_us_max",
		"deliveries_per_sec_max", "events_per_sec", "w3_ratio", "lost", "fsync_us"},
}

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// parseJSONLines decodes every line strictly and returns the metrics seen
// per workload.
func parseJSONLines(t *testing.T, out string) map[string][]string {
	t.Helper()
	got := map[string][]string{}
	for line := range strings.Lines(out) {
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		var f benchkit.JSONFigure
		if err := dec.Decode(&f); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		var raw map[string]any
		if err := json.Unmarshal([]byte(line), &raw); err != nil || len(raw) != 5 {
			t.Fatalf("line %q: want exactly workload, metric, value, unit, runs (err %v)", line, err)
		}
		if f.Workload == "" || f.Metric == "" || f.Unit == "" || f.Runs != 1 {
			t.Errorf("line %q: empty field or runs != 1", line)
		}
		if math.IsNaN(f.Value) || math.IsInf(f.Value, 0) {
			t.Errorf("line %q: value not finite", line)
		}
		if f.Value <= 0 && f.Metric != "allocs_per_op_net" && f.Metric != "lost" && f.Metric != "gaps" {
			t.Errorf("line %q: want a positive value", line)
		}
		if slices.Contains(got[f.Workload], f.Metric) {
			t.Errorf("%s %s reported twice", f.Workload, f.Metric)
		}
		got[f.Workload] = append(got[f.Workload], f.Metric)
	}
	return got
}

func TestBenchQuickJSONReportsEveryWorkloadsFigures(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCLI(t, "bench", "--quick", "--scale", tinyScale, "--json", "--dir", dir)
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	got := parseJSONLines(t, out)
	for w, metrics := range wantMetrics {
		for _, m := range metrics {
			if !slices.Contains(got[w], m) {
				t.Errorf("%s: no %s figure in\n%s", w, m, out)
			}
		}
	}
	if len(got) != len(wantMetrics) {
		t.Errorf("workloads reported %v, want those of %v", got, wantMetrics)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("temporary directories left behind: %v", left)
	}
}

func TestBenchOnlyRunsTheSelectionAndWhatItNeeds(t *testing.T) {
	for _, tc := range []struct {
		only string
		want []string
	}{
		{"W1p", []string{"W1p"}},
		{"w3,W1p", []string{"W1p", "W3"}},
		{"W2", []string{"W0", "W2"}},       // limit_ratio needs W0's fsync rate
		{"W9", []string{"W0", "W3", "W9"}}, // W9 is measured against both
	} {
		t.Run(tc.only, func(t *testing.T) {
			code, out, errOut := runCLI(t, "bench", "--quick", "--scale", tinyScale, "--json",
				"--dir", t.TempDir(), "--only", tc.only)
			if code != exitOK {
				t.Fatalf("exit %d, stderr:\n%s", code, errOut)
			}
			var ws []string
			for w := range parseJSONLines(t, out) {
				ws = append(ws, w)
			}
			slices.Sort(ws)
			if !slices.Equal(ws, tc.want) {
				t.Errorf("--only %s ran %v, want %v", tc.only, ws, tc.want)
			}
		})
	}
}

func TestBenchTableShowsMediansAndBars(t *testing.T) {
	code, out, errOut := runCLI(t, "bench", "--quick", "--scale", tinyScale, "--runs", "2",
		"--dir", t.TempDir(), "--only", "W1")
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	for _, want := range []string{"median of 2 run(s)", "workload", "events_per_sec", "≥ 400,000", "≤ 120.0", "allocs_per_op_net"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(errOut, "bench: W1   run"); n != 2 {
		t.Errorf("progress reports %d runs of W1, want 2:\n%s", n, errOut)
	}
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string // a substring of stdout, if set
		stderr string // a substring of stderr, if set
	}{
		{"no command", nil, exitUsage, "", "Usage:"},
		{"help", []string{"--help"}, exitOK, "bench", ""},
		{"unknown command", []string{"frobnicate"}, exitUsage, "", `unknown command "frobnicate"`},
		{"bench help", []string{"bench", "--help"}, exitOK, "--only", ""},
		{"unknown flag", []string{"bench", "--fast"}, exitUsage, "", "flag provided but not defined"},
		{"bad runs", []string{"bench", "--runs", "x"}, exitUsage, "", "-runs"},
		{"unknown workload", []string{"bench", "--only", "W99"}, exitUsage, "", `unknown workload "W99"`},
		{"stray argument", []string{"bench", "now"}, exitUsage, "", "unexpected arguments"},
		{"bad scale", []string{"bench", "--scale", "0"}, exitUsage, "", "--scale"},
		{"list", []string{"bench", "--list"}, exitOK, "W2x", ""},
		{"sync-data", []string{"bench", "--quick", "--only", "W2", "--sync-data", "--dir", os.TempDir()}, exitOK, "sync-data (fdatasync)", ""},
		{"encrypt and sign", []string{"bench", "--quick", "--scale", "0.1", "--only", "W1p", "--encrypt", "--sign", "--dir", os.TempDir()}, exitOK, "encrypted payloads, signed receipts", ""},
		{"jetstream moved", []string{"bench", "--backend", "jetstream"}, exitUsage, "", "batpak-bench-jetstream"},
		{"unknown backend", []string{"bench", "--backend", "nope"}, exitUsage, "", `--backend "nope"`},
		{"missing dir", []string{"bench", "--quick", "--only", "W1p", "--dir", "/nonexistent/batpak"}, exitFailure, "", "batpak bench:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, errOut)
			}
			if !strings.Contains(out, tc.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdout, out)
			}
			if !strings.Contains(errOut, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, errOut)
			}
		})
	}
}

func TestBenchStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"bench", "--quick", "--dir", t.TempDir()}, &out, &errb); code != exitFailure {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitFailure, errb.String())
	}
	if !strings.Contains(errb.String(), context.Canceled.Error()) {
		t.Errorf("stderr does not name the cancellation:\n%s", errb.String())
	}
}
