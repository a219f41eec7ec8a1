package benchkit

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"unicode/utf8"
)

// bench --compare A.jsonl B.jsonl prints every figure of two runs (each
// written by bench --json) side by side: A, B, the ratio B/A, and whether
// B is better or worse — which depends on the figure: more events a
// second is better, more microseconds or bytes an event is worse.

// sameWithin is how far apart two figures may be and still be called the same.
const sameWithin = 0.01

// readFigures reads a file of bench --json lines.
func ReadFigures(name string) ([]JSONFigure, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []JSONFigure
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		var fig JSONFigure
		if err := dec.Decode(&fig); err != nil || fig.Workload == "" || fig.Metric == "" {
			return nil, fmt.Errorf("%s:%d: not a line of bench --json: %q", name, n, line)
		}
		out = append(out, fig)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no figures", name)
	}
	return out, nil
}

// direction says which way a figure is better: +1 higher, -1 lower, 0
// not known. A target says it; otherwise the unit does.
func direction(workload, metric, unit string) int {
	if t, ok := Targets[[2]string{workload, metric}]; ok {
		if t.AtMost {
			return -1
		}
		return 1
	}
	switch {
	case strings.HasSuffix(unit, "/s"), unit == "events/fsync", strings.HasSuffix(metric, "_ratio"):
		return 1
	case strings.Contains(metric, "time_vs"):
		return -1 // a ratio of times
	}
	switch unit {
	case "µs", "ms", "ns", "s", "bytes", "bytes/event", "allocs", "allocs/append", "events":
		return -1 // latencies, sizes, allocations, events lost or skipped
	}
	return 0
}

// verdict compares b with a for a figure of direction dir.
func verdict(a, b float64, dir int) string {
	switch {
	case dir == 0:
		return ""
	case a == b || (a != 0 && math.Abs(b/a-1) <= sameWithin):
		return "same"
	case (b > a) == (dir > 0):
		return "better"
	}
	return "WORSE"
}

func ratioString(a, b float64) string {
	switch {
	case a == 0 && b == 0:
		return "1.00"
	case a == 0:
		return "—"
	}
	r := b / a
	if r >= 100 {
		return fmt.Sprintf("%.0f", r)
	}
	return fmt.Sprintf("%.3f", r)
}

// CompareRuns prints the figures of a and b side by side, in a's order
// and then those only b has (bench --compare).
func CompareRuns(w io.Writer, nameA, nameB string, a, b []JSONFigure) error {
	fmt.Fprintf(w, "batpak bench --compare: A = %s, B = %s\n", nameA, nameB)
	fmt.Fprintf(w, "better or WORSE: B differs from A by more than %.0f%% in the figure's good direction; one pair of runs on a shared machine is noise-prone: repeat A B A B.\n\n", sameWithin*100)
	better, worse, n := compareTable(w, "A", "B", a, b)
	fmt.Fprintf(w, "\n%d better, %d worse, %d compared\n", better, worse, n)
	return nil
}

// CompareToBaseline prints every figure of this run beside the figure of
// the same name in baseline (a run saved with --json, read from the file
// name), with the ratio run/baseline and a verdict (bench --baseline).
func CompareToBaseline(w io.Writer, name string, baseline []JSONFigure, results []Result) error {
	fmt.Fprintf(w, "against the baseline %s: ratio = this run / baseline; better or WORSE past %.0f%% in the figure's good direction (noise-prone on a shared machine)\n\n", name, sameWithin*100)
	better, worse, n := compareTable(w, "baseline", "this run", baseline, Figures(results))
	fmt.Fprintf(w, "\n%d better, %d worse, %d compared with the baseline\n", better, worse, n)
	return nil
}

// compareTable prints the rows of CompareRuns, columns colA and colB, and
// returns how many figures b has better and worse, and how many rows.
func compareTable(w io.Writer, colA, colB string, a, b []JSONFigure) (better, worse, n int) {
	key := func(f JSONFigure) [2]string { return [2]string{f.Workload, f.Metric} }
	inB := map[[2]string]JSONFigure{}
	for _, f := range b {
		inB[key(f)] = f
	}
	inA := map[[2]string]bool{}
	rows := [][]string{{"workload", "metric", "unit", colA, colB, colB + "/" + colA, ""}}
	if colA != "A" {
		rows[0][5] = "ratio"
	}
	for _, fa := range a {
		inA[key(fa)] = true
		fb, ok := inB[key(fa)]
		if !ok {
			rows = append(rows, []string{fa.Workload, fa.Metric, fa.Unit, FormatValue(fa.Value), "—", "", "only in " + colA})
			continue
		}
		v := verdict(fa.Value, fb.Value, direction(fa.Workload, fa.Metric, fa.Unit))
		switch v {
		case "better":
			better++
		case "WORSE":
			worse++
		}
		unit := fa.Unit
		if fb.Unit != fa.Unit {
			unit, v = fa.Unit+" / "+fb.Unit, "units differ"
		}
		rows = append(rows, []string{fa.Workload, fa.Metric, unit, FormatValue(fa.Value), FormatValue(fb.Value),
			ratioString(fa.Value, fb.Value), v})
	}
	for _, fb := range b {
		if !inA[key(fb)] {
			rows = append(rows, []string{fb.Workload, fb.Metric, fb.Unit, "—", FormatValue(fb.Value), "", "only in " + colB})
		}
	}
	writeAligned(w, rows, map[int]bool{3: true, 4: true, 5: true})
	return better, worse, len(rows) - 1
}

// writeAligned prints rows as columns two spaces apart; the columns in
// right are right-aligned.
func writeAligned(w io.Writer, rows [][]string, right map[int]bool) {
	width := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, cell := range row {
			width[i] = max(width[i], utf8.RuneCountInString(cell))
		}
	}
	var b strings.Builder
	for _, row := range rows {
		for i, cell := range row {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(cell))
			if right[i] {
				b.WriteString(pad + cell)
			} else {
				b.WriteString(cell + pad)
			}
			if i < len(row)-1 {
				b.WriteString("  ")
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		b.Reset()
	}
}
