package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"strconv"
)

// svgCanvas draws the chart as SVG elements. Text is left to the viewer's
// fonts (the Go fonts first, then common sans-serif ones); widths are
// measured with the Go font's metrics, which the others are close to.
type svgCanvas struct {
	buf     bytes.Buffer
	measure *pngCanvas // for textWidth only
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func (c *svgCanvas) rect(x, y, w, h float64, fill rgb) {
	fmt.Fprintf(&c.buf, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`+"\n", num(x), num(y), num(w), num(h), fill.hex())
}

func (c *svgCanvas) line(x1, y1, x2, y2, width float64, stroke rgb) {
	fmt.Fprintf(&c.buf, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="%s"/>`+"\n",
		num(x1), num(y1), num(x2), num(y2), stroke.hex(), num(width))
}

func (c *svgCanvas) text(x, y float64, s string, size float64, bold bool, a anchor, fill rgb) {
	attrs := ""
	switch a {
	case anchorMiddle:
		attrs = ` text-anchor="middle"`
	case anchorEnd:
		attrs = ` text-anchor="end"`
	}
	if bold {
		attrs += ` font-weight="bold"`
	}
	fmt.Fprintf(&c.buf, `<text x="%s" y="%s" font-size="%s" fill="%s"%s>`, num(x), num(y), num(size), fill.hex(), attrs)
	xml.EscapeText(&c.buf, []byte(s))
	c.buf.WriteString("</text>\n")
}

func (c *svgCanvas) textWidth(s string, size float64, bold bool) float64 {
	return c.measure.textWidth(s, size, bold)
}

// renderSVG returns the chart as an SVG document.
func renderSVG(panels []plotPanel, heading string) ([]byte, error) {
	m, err := newPNGCanvas(1, 1, 1)
	if err != nil {
		return nil, err
	}
	c := &svgCanvas{measure: m}
	drawChart(c, panels, heading)
	w, h := plotSize(panels)
	var out bytes.Buffer
	fmt.Fprintf(&out, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" `+
		`font-family="Go, 'DejaVu Sans', Helvetica, Arial, sans-serif">`+"\n", num(w), num(h), num(w), num(h))
	out.WriteString("<title>batpak bench</title>\n")
	out.Write(c.buf.Bytes())
	out.WriteString("</svg>\n")
	return out.Bytes(), nil
}

func writeSVG(name string, panels []plotPanel, heading string) error {
	b, err := renderSVG(panels, heading)
	if err != nil {
		return err
	}
	if err := os.WriteFile(name, b, 0o644); err != nil {
		return fmt.Errorf("--plot: %w", err)
	}
	return nil
}
