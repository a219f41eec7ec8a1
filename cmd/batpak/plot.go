package main

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"strconv"
	"strings"
)

// bench --plot draws the run's figures that have a target as a horizontal
// bar chart, with the standard library only: one bar per workload and
// metric, its length the figure normalised to its target so that 1.0 (the
// vertical line) is the bar and longer is better, green when the target
// is met and red when not. Text is drawn with the 5×7 glyphs below.

// plotBar is one bar: a label and the figure's normalised ratio.
type plotBar struct {
	label string
	ratio float64 // ≥ 1 when the target is met; may be +Inf
	met   bool
}

// ratioToTarget normalises v to t so that 1 is the target and more is
// better: v/t for an "at least" bar, t/v for an "at most" one. A bar of
// zero ("lost ≤ 0") cannot be divided by, so there it is 1/(1+v): exactly
// 1 when met and below 1 otherwise.
func ratioToTarget(v float64, t target) float64 {
	switch {
	case !t.atMost:
		if t.value == 0 {
			return math.Inf(1)
		}
		return v / t.value
	case t.value == 0:
		return 1 / (1 + math.Max(v, 0))
	case v <= 0:
		return math.Inf(1)
	default:
		return t.value / v
	}
}

// plotBars returns the bars of the results that have a target, in order.
func plotBars(results []Result) []plotBar {
	var bars []plotBar
	for _, r := range results {
		t, ok := targets[[2]string{r.Workload, r.Metric}]
		if !ok {
			continue
		}
		bars = append(bars, plotBar{
			label: r.Workload + " " + r.Metric,
			ratio: ratioToTarget(r.Median, t),
			met:   t.met(r.Median),
		})
	}
	return bars
}

// The chart's geometry, in pixels.
const (
	glyphScale = 2                         // each glyph pixel is a square of this side
	charW      = 6 * glyphScale            // 5 columns and a space
	charH      = 8 * glyphScale            // 7 rows and a space
	rowH       = charH + 12                // one bar's row
	plotMargin = 16                        // around everything
	barAreaW   = 560                       // the width of the bars' axis
	valueW     = 8 * charW                 // the ratio printed right of each bar
	titleH     = 2*charH + plotMargin + 12 // the two lines of the title
	axisH      = charH + 14                // the tick labels under the bars
)

var (
	plotWhite = color.RGBA{255, 255, 255, 255}
	plotInk   = color.RGBA{30, 30, 30, 255}
	plotGrid  = color.RGBA{220, 220, 220, 255}
	plotGreen = color.RGBA{46, 160, 67, 255}
	plotRed   = color.RGBA{207, 34, 46, 255}
)

// drawPlot renders the bars of results as an image.
func drawPlot(results []Result) *image.RGBA {
	bars := plotBars(results)
	labelW := 0
	for _, b := range bars {
		labelW = max(labelW, textWidth(b.label))
	}
	// The axis runs from 0 to a whole ratio of at least 2, at most 5;
	// longer bars are cut at its end and their ratio is printed.
	axisMax := 2.0
	for _, b := range bars {
		if !math.IsInf(b.ratio, 0) {
			axisMax = math.Max(axisMax, math.Ceil(b.ratio))
		}
	}
	axisMax = math.Min(axisMax, 5)

	x0 := plotMargin + labelW + charW // the axis's 0
	w := x0 + barAreaW + valueW + plotMargin
	h := titleH + max(len(bars), 1)*rowH + axisH + plotMargin
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(plotWhite), image.Point{}, draw.Src)

	drawText(img, plotMargin, plotMargin, "BATPAK BENCH: FIGURE / TARGET", plotInk)
	drawText(img, plotMargin, plotMargin+charH+4, "(>= 1 MEETS IT; AT-MOST TARGETS INVERTED)", plotInk)
	top := titleH
	if len(bars) == 0 {
		drawText(img, plotMargin, top+rowH/2, "NO FIGURE OF THIS RUN HAS A TARGET", plotInk)
		return img
	}
	xOf := func(ratio float64) int {
		return x0 + int(math.Round(math.Min(ratio, axisMax)/axisMax*barAreaW))
	}
	bottom := top + len(bars)*rowH
	// The grid: a line per whole ratio, the target's line darker.
	for i := 0; i <= int(axisMax); i++ {
		x := xOf(float64(i))
		c := plotGrid
		if i == 1 {
			c = plotInk
		}
		fillRect(img, image.Rect(x, top, x+1+boolInt(i == 1), bottom+4), c)
		label := strconv.Itoa(i)
		drawText(img, x-textWidth(label)/2, bottom+8, label, plotInk)
	}
	for i, b := range bars {
		y := top + i*rowH
		drawText(img, plotMargin, y+(rowH-charH)/2+glyphScale, b.label, plotInk)
		c := plotRed
		if b.met {
			c = plotGreen
		}
		fillRect(img, image.Rect(x0, y+4, max(xOf(b.ratio), x0+1), y+rowH-4), c)
		drawText(img, x0+barAreaW+charW, y+(rowH-charH)/2+glyphScale, formatRatio(b.ratio), plotInk)
	}
	fillRect(img, image.Rect(x0, top, x0+1, bottom+4), plotInk) // the axis
	return img
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func formatRatio(r float64) string {
	switch {
	case math.IsInf(r, 1):
		return "MET"
	case r >= 100:
		return strconv.FormatFloat(r, 'f', 0, 64)
	default:
		return strconv.FormatFloat(r, 'f', 2, 64)
	}
}

// writePlot draws the chart of results into the PNG file name.
func writePlot(name string, results []Result) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("--plot: %w", err)
	}
	if err := png.Encode(f, drawPlot(results)); err != nil {
		f.Close()
		return fmt.Errorf("--plot: %w", err)
	}
	return errors.Join(f.Sync(), f.Close())
}

func fillRect(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Src)
}

func textWidth(s string) int { return len(s) * charW }

// drawText draws s (upper-cased; characters without a glyph as '?') with
// its top-left corner at (x, y).
func drawText(img *image.RGBA, x, y int, s string, c color.RGBA) {
	for _, r := range strings.ToUpper(s) {
		g, ok := glyphs[r]
		if !ok {
			g = glyphs['?']
		}
		for row, bits := range g {
			for col := range 5 {
				if bits&(0x10>>col) != 0 {
					px, py := x+col*glyphScale, y+row*glyphScale
					fillRect(img, image.Rect(px, py, px+glyphScale, py+glyphScale), c)
				}
			}
		}
		x += charW
	}
}

// glyphs is a 5×7 font: seven rows per character, the top first, bit 4
// the leftmost column.
var glyphs = map[rune][7]uint8{
	' ': {},
	'0': {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E},
	'1': {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E},
	'2': {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F},
	'3': {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E},
	'4': {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02},
	'5': {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E},
	'6': {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E},
	'7': {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},
	'8': {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E},
	'9': {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C},
	'A': {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11},
	'B': {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E},
	'C': {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E},
	'D': {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C},
	'E': {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F},
	'F': {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10},
	'G': {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F},
	'H': {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11},
	'I': {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E},
	'J': {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C},
	'K': {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11},
	'L': {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F},
	'M': {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11},
	'N': {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11},
	'O': {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E},
	'P': {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10},
	'Q': {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D},
	'R': {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11},
	'S': {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E},
	'T': {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04},
	'U': {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E},
	'V': {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04},
	'W': {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A},
	'X': {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11},
	'Y': {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04},
	'Z': {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F},
	'_': {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F},
	'.': {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C},
	',': {0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08},
	'-': {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00},
	':': {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00},
	';': {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x04, 0x08},
	'/': {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00},
	'(': {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02},
	')': {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08},
	'=': {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00},
	'<': {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02},
	'>': {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08},
	'%': {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03},
	'?': {0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04},
}
