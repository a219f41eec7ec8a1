package benchkit

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Target is a bar from the issues' targets (see BENCH.md), printed next to
// the figure it applies to.
type Target struct {
	AtMost bool // the figure must be ≤ value; otherwise ≥
	Value  float64
}

func (t Target) String() string {
	if t.AtMost {
		return "≤ " + FormatValue(t.Value)
	}
	return "≥ " + FormatValue(t.Value)
}

func (t Target) Met(v float64) bool {
	if t.AtMost {
		return v <= t.Value
	}
	return v >= t.Value
}

// Targets are keyed by workload and metric.
var Targets = map[[2]string]Target{
	{"W1", "events_per_sec"}:    {Value: 400_000},
	{"W1p", "events_per_sec"}:   {Value: 1_500_000},
	{"W2", "limit_ratio"}:       {Value: 0.8},
	{"W2x", "events_per_fsync"}: {Value: 20},
	{"W3", "events_per_sec"}:    {Value: 1_300_000},
	{"W1", "bytes_per_event"}:   {AtMost: true, Value: 120},
	{"W1", "allocs_per_op_net"}: {AtMost: true, Value: 2},
}

// JSONFigure is one line of --json output; the field order is the
// contract's.
type JSONFigure struct {
	Workload string  `json:"workload"`
	Metric   string  `json:"metric"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
	Runs     int     `json:"runs"`
}

func WriteJSON(w io.Writer, results []Result) error {
	enc := json.NewEncoder(w)
	for _, r := range results {
		if v := r.Median; math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s %s: not a finite number: %v", r.Workload, r.Metric, v)
		}
	}
	for _, f := range Figures(results) {
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	return nil
}

// Figures returns results as --json writes them (medians rounded to six
// significant digits), for comparing a run with a saved one.
func Figures(results []Result) []JSONFigure {
	out := make([]JSONFigure, len(results))
	for i, r := range results {
		out[i] = JSONFigure{r.Workload, r.Metric, roundTo(r.Median, 6), r.Unit, r.Runs}
	}
	return out
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
func WriteTable(w io.Writer, results []Result) error {
	rows := [][]string{{"workload", "metric", "median", "unit", "target", ""}}
	for _, r := range results {
		bar, verdict := "", ""
		if t, ok := Targets[[2]string{r.Workload, r.Metric}]; ok {
			bar, verdict = t.String(), "ok"
			if !t.Met(r.Median) {
				verdict = "MISS"
			}
		}
		rows = append(rows, []string{r.Workload, r.Metric, FormatValue(r.Median), r.Unit, bar, verdict})
	}
	writeAligned(w, rows, map[int]bool{2: true}) // the median, right-aligned
	return nil
}

// formatValue prints large figures as grouped integers and small ones
// with enough digits to be read.
func FormatValue(v float64) string {
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

// Machine describes what the figures were measured on: Go, platform,
// CPUs, and on Linux the transparent huge page mode, which moves most
// figures by a fifth or more (docs/TUNING.md, "Transparent huge pages").
func Machine() string {
	m := fmt.Sprintf("%s %s/%s, %d CPUs (GOMAXPROCS %d)",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err == nil {
		if mode := hugePageMode(string(b)); mode != "" {
			m += ", transparent huge pages " + mode
		}
	}
	return m
}

// hugePageMode returns the mode Linux marks as chosen in the contents of
// its transparent_hugepage/enabled file ("always [madvise] never"), or ""
// if none is marked.
func hugePageMode(enabled string) string {
	_, rest, ok := strings.Cut(enabled, "[")
	mode, _, closed := strings.Cut(rest, "]")
	if !ok || !closed {
		return ""
	}
	return mode
}
