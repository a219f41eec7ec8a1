package spatial

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/batpak-go/batpak/event"
)

// ErrNotChunk is matched by the error of ParseChunk for a scope that is
// not a chunk's.
var ErrNotChunk = errors.New("spatial: not a chunk scope")

// Chunk is one square of a zone's grid, by its column X and row Y
// (negative ones too).
type Chunk struct {
	Zone, X, Y int
}

// At returns the chunk of zone that holds the point (x, y), for chunks
// size units a side (size > 0): chunk (0, 0) holds [0, size)², chunk
// (-1, 0) the column left of it.
func At(zone, x, y, size int) Chunk {
	return Chunk{Zone: zone, X: floorDiv(x, size), Y: floorDiv(y, size)}
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Scope is the chunk's scope: "zone:<zone>/<x>,<y>".
func (c Chunk) Scope() string {
	b := make([]byte, 0, 24)
	b = append(b, "zone:"...)
	b = strconv.AppendInt(b, int64(c.Zone), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(c.X), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(c.Y), 10)
	return string(b)
}

// String is the chunk's scope.
func (c Chunk) String() string { return c.Scope() }

// ParseChunk reads a chunk's scope back; anything else is ErrNotChunk.
func ParseChunk(scope string) (Chunk, error) {
	bad := func() (Chunk, error) { return Chunk{}, fmt.Errorf("%w: %q", ErrNotChunk, scope) }
	rest, ok := strings.CutPrefix(scope, "zone:")
	if !ok {
		return bad()
	}
	zone, xy, ok := strings.Cut(rest, "/")
	if !ok {
		return bad()
	}
	xs, ys, ok := strings.Cut(xy, ",")
	if !ok {
		return bad()
	}
	var c Chunk
	for _, f := range []struct {
		s   string
		dst *int
	}{{zone, &c.Zone}, {xs, &c.X}, {ys, &c.Y}} {
		v, err := strconv.Atoi(f.s)
		if err != nil || strconv.Itoa(v) != f.s { // one spelling per chunk: no "+1" or "01"
			return bad()
		}
		*f.dst = v
	}
	return c, nil
}

// Around returns the chunks within radius of c (a square of side
// 2·radius+1, c at its centre; radius 1 is the 3×3 neighbourhood), row by
// row. A negative radius is taken as 0.
func (c Chunk) Around(radius int) []Chunk {
	radius = max(radius, 0)
	out := make([]Chunk, 0, (2*radius+1)*(2*radius+1))
	for y := c.Y - radius; y <= c.Y+radius; y++ {
		for x := c.X - radius; x <= c.X+radius; x++ {
			out = append(out, Chunk{Zone: c.Zone, X: x, Y: y})
		}
	}
	return out
}

// Area is the region of the events in any of chunks (event.ForScopes of
// their scopes). No chunk matches no event.
func Area(chunks ...Chunk) event.Region {
	scopes := make([]string, len(chunks))
	for i, c := range chunks {
		scopes[i] = c.Scope()
	}
	return event.ForScopes(scopes...)
}

// ZonePrefix is the beginning every chunk scope of zone shares: "zone:<zone>/".
func ZonePrefix(zone int) string { return "zone:" + strconv.Itoa(zone) + "/" }

// Zone is the region of every event in a chunk of zone: the scope prefix
// "zone:<zone>/" (which no other zone's scopes start with).
func Zone(zone int) event.Region { return event.AllEvents().WithScopePrefix(ZonePrefix(zone)) }

// Grid is a bounded zone: the chunks with 0 ≤ X < Width and 0 ≤ Y < Height.
type Grid struct {
	Zone, Width, Height int
}

// Contains reports whether c is a chunk of the grid.
func (g Grid) Contains(c Chunk) bool {
	return c.Zone == g.Zone && c.X >= 0 && c.X < g.Width && c.Y >= 0 && c.Y < g.Height
}

// Around is c.Around(radius) without the chunks outside the grid.
func (g Grid) Around(c Chunk, radius int) []Chunk {
	all := c.Around(radius)
	out := all[:0]
	for _, n := range all {
		if g.Contains(n) {
			out = append(out, n)
		}
	}
	return out
}

// Chunks returns every chunk of the grid, row by row.
func (g Grid) Chunks() []Chunk {
	out := make([]Chunk, 0, max(g.Width*g.Height, 0))
	for y := range g.Height {
		for x := range g.Width {
			out = append(out, Chunk{Zone: g.Zone, X: x, Y: y})
		}
	}
	return out
}
