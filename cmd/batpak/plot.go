package main

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/batpak-go/batpak/internal/benchkit"
)

// bench --plot draws every figure of a run at its absolute value, with its
// unit: one panel per workload, one row per metric. Each row has its own
// scale from 0 (figures of one workload differ in unit and magnitude), a
// bar for the median, a whisker from the lowest to the highest run when
// there was more than one, and the target, where BENCH.md sets one, as a
// mark — the bar green when the median meets it, red when not, blue when
// there is none. The chart is drawn once onto a canvas that writes SVG or
// PNG (plot_svg.go, plot_png.go).

// plotRow is one figure of the chart.
type plotRow struct {
	metric, unit     string
	median, min, max float64
	runs             int
	target           *benchkit.Target
}

// plotPanel is one workload's figures.
type plotPanel struct {
	title string
	rows  []plotRow
}

// plotPanels groups results by workload, in the order of the run. titles
// maps a workload id to its title.
func plotPanels(results []benchkit.Result, titles map[string]string) []plotPanel {
	var panels []plotPanel
	at := map[string]int{}
	for _, r := range results {
		i, ok := at[r.Workload]
		if !ok {
			i = len(panels)
			at[r.Workload] = i
			title := r.Workload
			if t := titles[r.Workload]; t != "" {
				title += " · " + t
			}
			panels = append(panels, plotPanel{title: title})
		}
		row := plotRow{metric: r.Metric, unit: r.Unit, median: r.Median, min: r.Min, max: r.Max, runs: r.Runs}
		if t, ok := benchkit.Targets[[2]string{r.Workload, r.Metric}]; ok {
			row.target = &t
		}
		panels[i].rows = append(panels[i].rows, row)
	}
	return panels
}

// rgb is a colour of the chart.
type rgb struct{ r, g, b uint8 }

func (c rgb) hex() string { return fmt.Sprintf("#%02x%02x%02x", c.r, c.g, c.b) }

var (
	colInk    = rgb{33, 37, 41}
	colMuted  = rgb{108, 117, 125}
	colTrack  = rgb{236, 239, 242}
	colPanel  = rgb{248, 249, 250}
	colBorder = rgb{222, 226, 230}
	colMet    = rgb{47, 158, 68}
	colMissed = rgb{201, 42, 42}
	colPlain  = rgb{73, 110, 156}
	colWhite  = rgb{255, 255, 255}
)

// anchor is where a text's x lies: at its start, middle or end.
type anchor int

const (
	anchorStart anchor = iota
	anchorMiddle
	anchorEnd
)

// canvas is what the chart is drawn on, in points (y grows downwards;
// text is placed by its baseline).
type canvas interface {
	rect(x, y, w, h float64, fill rgb)
	line(x1, y1, x2, y2, width float64, stroke rgb)
	text(x, y float64, s string, size float64, bold bool, a anchor, fill rgb)
	// textWidth measures s as text draws it.
	textWidth(s string, size float64, bold bool) float64
}

// The chart's geometry, in points.
const (
	plotWidth    = 960.0
	plotMargin   = 24.0
	plotTitleH   = 58.0
	panelHeadH   = 30.0
	panelGap     = 14.0
	rowH         = 44.0
	barH         = 12.0
	valueColumnW = 220.0
	legendH      = 40.0
	labelSize    = 12.0
	smallSize    = 9.5
)

// plotSize returns the chart's height for these panels.
func plotSize(panels []plotPanel) (w, h float64) {
	h = plotMargin + plotTitleH + legendH + plotMargin
	for _, p := range panels {
		h += panelHeadH + float64(len(p.rows))*rowH + panelGap
	}
	if len(panels) == 0 {
		h += rowH
	}
	return plotWidth, h
}

// drawChart draws the panels onto c; heading is the run's one-line
// description (runs, scale, machine).
func drawChart(c canvas, panels []plotPanel, heading string) {
	w, h := plotSize(panels)
	c.rect(0, 0, w, h, colWhite)
	c.text(plotMargin, plotMargin+18, "batpak bench", 20, true, anchorStart, colInk)
	c.text(plotMargin, plotMargin+38, heading, smallSize+1, false, anchorStart, colMuted)
	y := plotMargin + plotTitleH
	if len(panels) == 0 {
		c.text(plotMargin, y+rowH/2, "This run reported no figures.", labelSize, false, anchorStart, colInk)
		y += rowH
	}
	labelW := 0.0
	for _, p := range panels {
		for _, r := range p.rows {
			labelW = math.Max(labelW, c.textWidth(r.metric, labelSize, false))
		}
	}
	x0 := plotMargin + 12 + labelW + 16 // the bars' 0
	trackW := w - plotMargin - valueColumnW - x0
	for _, p := range panels {
		ph := panelHeadH + float64(len(p.rows))*rowH
		c.rect(plotMargin, y, w-2*plotMargin, ph, colPanel)
		c.rect(plotMargin, y, 3, ph, colBorder)
		c.text(plotMargin+12, y+20, p.title, 14, true, anchorStart, colInk)
		ry := y + panelHeadH
		for _, r := range p.rows {
			drawRow(c, r, plotMargin+12, x0, ry, trackW)
			ry += rowH
		}
		y += ph + panelGap
	}
	drawLegend(c, plotMargin, y+8)
}

// drawRow draws one figure: its label, its track with the bar, whisker
// and target mark, the scale's ends under the track, and its value.
func drawRow(c canvas, r plotRow, labelX, x0, y, trackW float64) {
	barY := y + 14
	mid := barY + barH/2
	c.text(labelX, mid+4, r.metric, labelSize, false, anchorStart, colInk)
	top := niceCeil(math.Max(math.Max(r.median, r.max), targetValue(r.target)) * 1.08)
	xOf := func(v float64) float64 {
		if top <= 0 {
			return x0
		}
		return x0 + math.Max(0, math.Min(v, top))/top*trackW
	}
	c.rect(x0, barY, trackW, barH, colTrack)
	fill := colPlain
	if r.target != nil {
		fill = colMissed
		if r.target.Met(r.median) {
			fill = colMet
		}
	}
	// A median of 0 still shows its colour: a stub at the start.
	c.rect(x0, barY, math.Max(xOf(r.median)-x0, 3), barH, fill)
	if r.runs > 1 && r.max > r.min {
		lo, hi := xOf(r.min), xOf(r.max)
		c.line(lo, mid, hi, mid, 1.5, colInk)
		c.line(lo, mid-5, lo, mid+5, 1.5, colInk)
		c.line(hi, mid-5, hi, mid+5, 1.5, colInk)
	}
	// The scale: 0 and the track's end, under it.
	c.text(x0, barY+barH+11, "0", smallSize, false, anchorStart, colMuted)
	c.text(x0+trackW, barY+barH+11, formatShort(top), smallSize, false, anchorEnd, colMuted)
	if t := r.target; t != nil {
		tx := xOf(t.Value)
		c.line(tx, barY-3, tx, barY+barH+3, 2.5, colInk)
		a := anchorMiddle
		switch {
		case tx-x0 < 40:
			a = anchorStart
		case x0+trackW-tx < 40:
			a = anchorEnd
		}
		rel := "≥ "
		if t.AtMost {
			rel = "≤ "
		}
		c.text(tx, barY-5, "target "+rel+formatShort(t.Value), smallSize, true, a, colInk)
	}
	// The value, in the bar's colour where there is a target to meet.
	vcol := colInk
	if r.target != nil {
		vcol = fill
	}
	c.text(x0+trackW+12, mid+4, formatShort(r.median)+" "+r.unit, labelSize, true, anchorStart, vcol)
	switch {
	case r.runs > 1 && r.max > r.min:
		c.text(x0+trackW+12, mid+17, fmt.Sprintf("median of %d runs, %s to %s", r.runs, formatShort(r.min), formatShort(r.max)),
			smallSize, false, anchorStart, colMuted)
	case r.runs > 1:
		c.text(x0+trackW+12, mid+17, fmt.Sprintf("%d runs, all the same", r.runs), smallSize, false, anchorStart, colMuted)
	}
}

// formatShort is formatValue without trailing zeros after the point.
func formatShort(v float64) string {
	s := benchkit.FormatValue(v)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func drawLegend(c canvas, x, y float64) {
	items := []struct {
		col  rgb
		text string
	}{{colMet, "target met"}, {colMissed, "target missed"}, {colPlain, "no target"}}
	for _, it := range items {
		c.rect(x, y, 14, 10, it.col)
		c.text(x+20, y+9, it.text, smallSize+1, false, anchorStart, colInk)
		// Viewers of the SVG may set it in a wider font: leave room.
		x += 40 + 1.15*c.textWidth(it.text, smallSize+1, false)
	}
	c.line(x, y+5, x+18, y+5, 1.5, colInk)
	c.line(x, y, x, y+10, 1.5, colInk)
	c.line(x+18, y, x+18, y+10, 1.5, colInk)
	c.text(x+24, y+9, "lowest–highest run", smallSize+1, false, anchorStart, colInk)
	x += 48 + 1.15*c.textWidth("lowest–highest run", smallSize+1, false)
	c.line(x, y-2, x, y+12, 2.5, colInk)
	c.text(x+8, y+9, "target (BENCH.md)", smallSize+1, false, anchorStart, colInk)
	c.text(plotMargin, y+28, "Bars are medians at their absolute value; each row has its own scale from 0.",
		smallSize+1, false, anchorStart, colMuted)
}

func targetValue(t *benchkit.Target) float64 {
	if t == nil {
		return 0
	}
	return t.Value
}

// niceCeil rounds v up to 1, 2, 2.5 or 5 times a power of ten (at least 1).
func niceCeil(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if v <= m*p*(1+1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// writePlot draws the chart of results into name: SVG for a .svg name,
// PNG for a .png one. titles maps workload ids to their titles.
func writePlot(name string, results []benchkit.Result, titles map[string]string, heading string) error {
	panels := plotPanels(results, titles)
	switch strings.ToLower(filepath.Ext(name)) {
	case ".svg":
		return writeSVG(name, panels, heading)
	case ".png":
		return writePNG(name, panels, heading)
	}
	return usagef("--plot %s: want a .svg or .png file", name)
}
