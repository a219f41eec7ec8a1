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

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// pngCanvas draws the chart into an image with the Go fonts (embedded:
// the PNG looks the same everywhere), at scale pixels per point.
type pngCanvas struct {
	img   *image.RGBA
	scale float64
	fonts [2]*opentype.Font // regular, bold
	faces map[[2]float64]font.Face
}

func newPNGCanvas(w, h, scale float64) (*pngCanvas, error) {
	reg, err1 := opentype.Parse(goregular.TTF)
	bold, err2 := opentype.Parse(gobold.TTF)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	img := image.NewRGBA(image.Rect(0, 0, int(math.Ceil(w*scale)), int(math.Ceil(h*scale))))
	return &pngCanvas{img: img, scale: scale, fonts: [2]*opentype.Font{reg, bold}, faces: map[[2]float64]font.Face{}}, nil
}

func (c *pngCanvas) face(size float64, bold bool) font.Face {
	k := [2]float64{size, 0}
	if bold {
		k[1] = 1
	}
	if f, ok := c.faces[k]; ok {
		return f
	}
	f, err := opentype.NewFace(c.fonts[int(k[1])], &opentype.FaceOptions{Size: size * c.scale, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic(err) // the embedded fonts and sizes are ours: cannot fail
	}
	c.faces[k] = f
	return f
}

func rgba(c rgb) color.RGBA { return color.RGBA{c.r, c.g, c.b, 255} }

// fill rasterises a polygon (points in points) in colour col.
func (c *pngCanvas) fill(col rgb, pts ...[2]float64) {
	b := c.img.Bounds()
	z := vector.NewRasterizer(b.Dx(), b.Dy())
	for i, p := range pts {
		x, y := float32(p[0]*c.scale), float32(p[1]*c.scale)
		if i == 0 {
			z.MoveTo(x, y)
		} else {
			z.LineTo(x, y)
		}
	}
	z.ClosePath()
	z.Draw(c.img, b, image.NewUniform(rgba(col)), image.Point{})
}

func (c *pngCanvas) rect(x, y, w, h float64, col rgb) {
	c.fill(col, [2]float64{x, y}, [2]float64{x + w, y}, [2]float64{x + w, y + h}, [2]float64{x, y + h})
}

func (c *pngCanvas) line(x1, y1, x2, y2, width float64, col rgb) {
	dx, dy := x2-x1, y2-y1
	n := math.Hypot(dx, dy)
	if n == 0 {
		return
	}
	ox, oy := -dy/n*width/2, dx/n*width/2
	c.fill(col, [2]float64{x1 + ox, y1 + oy}, [2]float64{x2 + ox, y2 + oy}, [2]float64{x2 - ox, y2 - oy}, [2]float64{x1 - ox, y1 - oy})
}

func (c *pngCanvas) text(x, y float64, s string, size float64, bold bool, a anchor, col rgb) {
	f := c.face(size, bold)
	w := c.textWidth(s, size, bold)
	switch a {
	case anchorMiddle:
		x -= w / 2
	case anchorEnd:
		x -= w
	}
	d := font.Drawer{Dst: c.img, Src: image.NewUniform(rgba(col)), Face: f,
		Dot: fixed.P(int(math.Round(x*c.scale)), int(math.Round(y*c.scale)))}
	d.DrawString(s)
}

func (c *pngCanvas) textWidth(s string, size float64, bold bool) float64 {
	return float64(font.MeasureString(c.face(size, bold), s)) / 64 / c.scale
}

// pngScale draws the PNG at twice the size in points, for sharp text.
const pngScale = 2

func writePNG(name string, panels []plotPanel, heading string) error {
	w, h := plotSize(panels)
	c, err := newPNGCanvas(w, h, pngScale)
	if err != nil {
		return err
	}
	draw.Draw(c.img, c.img.Bounds(), image.NewUniform(rgba(colWhite)), image.Point{}, draw.Src)
	drawChart(c, panels, heading)
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("--plot: %w", err)
	}
	if err := png.Encode(f, c.img); err != nil {
		f.Close()
		return fmt.Errorf("--plot: %w", err)
	}
	return errors.Join(f.Sync(), f.Close())
}
