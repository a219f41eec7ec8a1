package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/internal/benchkit"
)

// sampleResults has figures with a target met and missed, without a
// target, a zero met, and more than one run.
func sampleResults() []benchkit.Result {
	return []benchkit.Result{
		{Workload: "W1", Metric: "events_per_sec", Unit: "events/s", Median: 612_000, Min: 580_000, Max: 640_000, Runs: 3},
		{Workload: "W1", Metric: "allocs_per_op_net", Unit: "allocs/append", Median: 2.4, Min: 2.2, Max: 2.6, Runs: 3},
		{Workload: "W1", Metric: "p99_us", Unit: "µs", Median: 41, Min: 33, Max: 70, Runs: 3},
		{Workload: "W7", Metric: "lost", Unit: "events", Median: 0, Min: 0, Max: 0, Runs: 3},
		{Workload: "W9", Metric: "a<b&c", Unit: `"odd" unit`, Median: 1, Runs: 1},
	}
}

var sampleTitles = map[string]string{"W1": "single appends", "W7": "subscribers"}

func TestPlotPanelsGroupFiguresByWorkload(t *testing.T) {
	panels := plotPanels(sampleResults(), sampleTitles)
	require.Len(t, panels, 3)
	assert.Equal(t, "W1 · single appends", panels[0].title)
	assert.Equal(t, "W9", panels[2].title, "no title known: the id alone")
	require.Len(t, panels[0].rows, 3)
	require.NotNil(t, panels[0].rows[0].target)
	assert.True(t, panels[0].rows[0].target.Met(612_000))
	assert.Nil(t, panels[0].rows[2].target)
	assert.Equal(t, 70.0, panels[0].rows[2].max)
}

// svgTexts parses an SVG document strictly and returns its texts and the
// fills of its rectangles.
func svgTexts(t *testing.T, doc []byte) (texts []string, fills map[string]int) {
	t.Helper()
	fills = map[string]int{}
	dec := xml.NewDecoder(bytes.NewReader(doc))
	inText := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return texts, fills
		}
		require.NoError(t, err)
		switch el := tok.(type) {
		case xml.StartElement:
			inText = el.Name.Local == "text"
			if el.Name.Local == "rect" {
				for _, a := range el.Attr {
					if a.Name.Local == "fill" {
						fills[a.Value]++
					}
				}
			}
		case xml.CharData:
			if inText {
				texts = append(texts, string(el))
			}
		case xml.EndElement:
			inText = false
		}
	}
}

func TestPlotSVGShowsEveryFigureWithItsUnitAndTarget(t *testing.T) {
	doc, err := renderSVG(plotPanels(sampleResults(), sampleTitles), "embedded: median of 3 run(s)")
	require.NoError(t, err)
	texts, fills := svgTexts(t, doc)
	for _, want := range []string{
		"W1 · single appends", "events_per_sec", "612,000 events/s", "target ≥ 400,000",
		"median of 3 runs, 580,000 to 640,000", "2.4 allocs/append", "target ≤ 2", "41 µs",
		"0 events", "target ≤ 0", "3 runs, all the same", "a<b&c", `1 "odd" unit`, "embedded: median of 3 run(s)",
	} {
		assert.Contains(t, texts, want)
	}
	assert.Positive(t, fills[colMet.hex()], "a bar that meets its target")
	assert.Positive(t, fills[colMissed.hex()], "a bar that misses its target")
	assert.Positive(t, fills[colPlain.hex()], "a bar without a target")
	assert.NotContains(t, string(doc), "a<b", "text is escaped")
}

func TestPlotWritesSVGAndPNG(t *testing.T) {
	dir := t.TempDir()
	svg, pngName := filepath.Join(dir, "bench.svg"), filepath.Join(dir, "bench.PNG")
	require.NoError(t, writePlot(svg, sampleResults(), sampleTitles, "h"))
	require.NoError(t, writePlot(pngName, sampleResults(), sampleTitles, "h"))
	b, err := os.ReadFile(svg)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(b), "<svg "))

	f, err := os.Open(pngName)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	w, h := plotSize(plotPanels(sampleResults(), sampleTitles))
	assert.Equal(t, int(w*pngScale), img.Bounds().Dx())
	assert.Equal(t, int(h*pngScale), img.Bounds().Dy())
	counts := map[rgb]int{}
	bnd := img.Bounds()
	for y := bnd.Min.Y; y < bnd.Max.Y; y++ {
		for x := bnd.Min.X; x < bnd.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			counts[rgb{c.R, c.G, c.B}]++
		}
	}
	for _, c := range []rgb{colMet, colMissed, colPlain, colInk} {
		assert.Positive(t, counts[c], "colour %s drawn", c.hex())
	}

	require.Error(t, writePlot(filepath.Join(dir, "bench.gif"), sampleResults(), nil, "h"))
	_, errOut := cli(t, exitUsage, "bench", "--plot", filepath.Join(dir, "x.jpg"))
	assert.Contains(t, errOut, "want a .svg or .png file")
}

func TestNiceCeil(t *testing.T) {
	for _, tc := range []struct{ in, want float64 }{
		{0, 1}, {0.5, 1}, {1, 1}, {1.2, 2}, {2.1, 2.5}, {3, 5}, {7, 10}, {10, 10}, {10.5, 20}, {412_000, 500_000}, {1_650_000, 2_000_000},
	} {
		assert.Equal(t, tc.want, niceCeil(tc.in), "niceCeil(%v)", tc.in)
	}
}
