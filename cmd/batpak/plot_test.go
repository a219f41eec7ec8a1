package main

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// countColor counts the pixels of img that are exactly c.
func countColor(img image.Image, c color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if color.RGBAModel.Convert(img.At(x, y)) == c {
				n++
			}
		}
	}
	return n
}

func decodePNG(t *testing.T, name string) image.Image {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decoding %s: %v", name, err)
	}
	return img
}

func TestPlotWritesAPNGWithABarPerTargetedFigure(t *testing.T) {
	results := []Result{
		{Workload: "W1", Metric: "events_per_sec", Unit: "events/s", Median: 200_000, Runs: 1}, // 0.5: missed
		{Workload: "W1", Metric: "p50_us", Unit: "µs", Median: 2, Runs: 1},                     // no target
		{Workload: "W6", Metric: "ms_nocache", Unit: "ms", Median: 0.05, Runs: 1},              // 2: met
		{Workload: "W7", Metric: "lost", Unit: "events", Median: 0, Runs: 1},                   // 1: met
	}
	if got := plotBars(results); len(got) != 3 || got[0].met || !got[1].met || !got[2].met {
		t.Fatalf("bars %+v, want W1 missed, W6 and W7 met", got)
	}
	name := filepath.Join(t.TempDir(), "bench.png")
	if err := writePlot(name, results); err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, name)
	if b := img.Bounds(); b.Dx() < barAreaW || b.Dy() < titleH+3*rowH {
		t.Errorf("image of %v is too small for three bars", b)
	}
	if countColor(img, plotRed) == 0 || countColor(img, plotGreen) == 0 {
		t.Error("want a red bar (missed) and green bars (met)")
	}
	if countColor(img, plotInk) == 0 {
		t.Error("no text or target line drawn")
	}
}

func TestPlotOfARunWithoutTargetsSaysSo(t *testing.T) {
	name := filepath.Join(t.TempDir(), "empty.png")
	if err := writePlot(name, []Result{{Workload: "W1p", Metric: "p50_us", Median: 3}}); err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, name)
	if countColor(img, plotGreen)+countColor(img, plotRed) != 0 {
		t.Error("bars drawn for figures without a target")
	}
	if countColor(img, plotInk) == 0 {
		t.Error("no message drawn")
	}
}

func TestRatioToTargetIsOneAtTheTargetAndMoreIsBetter(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		t    target
		want float64
	}{
		{500, target{value: 1000}, 0.5},
		{2000, target{value: 1000}, 2},
		{0.05, target{atMost: true, value: 0.1}, 2},
		{0.2, target{atMost: true, value: 0.1}, 0.5},
		{0, target{atMost: true, value: 0}, 1},
		{3, target{atMost: true, value: 0}, 0.25},
		{0, target{atMost: true, value: 5}, math.Inf(1)},
	} {
		if got := ratioToTarget(tc.v, tc.t); got != tc.want {
			t.Errorf("ratioToTarget(%v, %v) = %v, want %v", tc.v, tc.t, got, tc.want)
		}
	}
}

func TestBenchPlotFlagWritesTheChart(t *testing.T) {
	name := filepath.Join(t.TempDir(), "run.png")
	code, _, errOut := runCLI(t, "bench", "--quick", "--scale", tinyScale, "--dir", t.TempDir(),
		"--only", "W6", "--plot", name)
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	if img := decodePNG(t, name); countColor(img, plotGreen)+countColor(img, plotRed) == 0 {
		t.Error("the chart of W6 has no bars")
	}
}

func TestEveryLabelCharacterHasAGlyph(t *testing.T) {
	for k := range targets {
		for _, r := range k[0] + " " + k[1] {
			if r >= 'a' && r <= 'z' {
				r -= 'a' - 'A'
			}
			if _, ok := glyphs[r]; !ok {
				t.Errorf("no glyph for %q in %s %s", r, k[0], k[1])
			}
		}
	}
}
