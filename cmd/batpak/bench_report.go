package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"strings"
)

// target is a bar from the issues' targets (see BENCH.md), printed next to
// the figure it applies to.
type target struct {
	atMost bool // the figure must be ≤ value; otherwise ≥
	value  float64
}

func (t target) String() string {
	if t.atMost {
		return "≤ " + formatValue(t.value)
	}
	return "≥ " + formatValue(t.value)
}

func (t target) met(v float64) bool {
	if t.atMost {
		return v <= t.value
	}
	return v >= t.value
}

// targets are keyed by workload and metric.
var targets = map[[2]string]target{
	{"W1", "events_per_sec"}:    {value: 400_000},
	{"W1p", "events_per_sec"}:   {value: 1_500_000},
	{"W2", "limit_ratio"}:       {value: 0.8},
	{"W2x", "events_per_fsync"}: {value: 20},
	{"W3", "events_per_sec"}:    {value: 1_300_000},
	{"W1", "bytes_per_event"}:   {atMost: true, value: 120},
	{"W1", "allocs_per_op_net"}: {atMost: true, value: 2},
}

// jsonFigure is one line of --json output; the field order is the
// contract's.
type jsonFigure struct {
	Workload string  `json:"workload"`
	Metric   string  `json:"metric"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
	Runs     int     `json:"runs"`
}

func writeJSON(w io.Writer, results []Result) error {
	enc := json.NewEncoder(w)
	for _, r := range results {
		v := r.Median
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s %s: not a finite number: %v", r.Workload, r.Metric, v)
		}
		if err := enc.Encode(jsonFigure{r.Workload, r.Metric, roundTo(v, 6), r.Unit, r.Runs}); err != nil {
			return err
		}
	}
	return nil
}

// roundTo rounds v to n significant digits, so JSON carries no noise digits.
func roundTo(v float64, n int) float64 {
	if v == 0 {
		return 0
	}
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', n, 64), 64)
	return f
}

// writeTable prints an aligned table: text columns to the left, the
// median to the right, and the bar with a verdict where one is known.
func writeTable(w io.Writer, results []Result) error {
	rows := [][]string{{"workload", "metric", "median", "unit", "target", ""}}
	for _, r := range results {
		bar, verdict := "", ""
		if t, ok := targets[[2]string{r.Workload, r.Metric}]; ok {
			bar, verdict = t.String(), "ok"
			if !t.met(r.Median) {
				verdict = "MISS"
			}
		}
		rows = append(rows, []string{r.Workload, r.Metric, formatValue(r.Median), r.Unit, bar, verdict})
	}
	writeAligned(w, rows, map[int]bool{2: true}) // the median, right-aligned
	return nil
}

// formatValue prints large figures as grouped integers and small ones
// with enough digits to be read.
func formatValue(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1000:
		return groupThousands(strconv.FormatFloat(v, 'f', 0, 64))
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

func groupThousands(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func machine() string {
	return fmt.Sprintf("%s %s/%s, %d CPUs (GOMAXPROCS %d)",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0))
}
