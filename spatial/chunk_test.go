package spatial_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/spatial"
)

func TestChunkScopesRoundTrip(t *testing.T) {
	for _, c := range []spatial.Chunk{{1, 0, 0}, {1, 3, -2}, {-4, -1, 17}, {12, 1 << 40, -(1 << 40)}} {
		got, err := spatial.ParseChunk(c.Scope())
		require.NoError(t, err)
		assert.Equal(t, c, got)
	}
	assert.Equal(t, "zone:1/3,-2", spatial.Chunk{Zone: 1, X: 3, Y: -2}.Scope())
	for _, bad := range []string{"", "zone:1", "zone:1/3", "zone:x/1,2", "zone:1/1,2,3", "zone:1/01,2", "zone:1/+1,2", "room:1/1,2", "zone:1/1, 2"} {
		_, err := spatial.ParseChunk(bad)
		assert.ErrorIs(t, err, spatial.ErrNotChunk, "%q", bad)
	}
}

func TestAtFloorsNegativeCoordinates(t *testing.T) {
	assert.Equal(t, spatial.Chunk{Zone: 2, X: 0, Y: 0}, spatial.At(2, 0, 15, 16))
	assert.Equal(t, spatial.Chunk{Zone: 2, X: 1, Y: 0}, spatial.At(2, 16, 0, 16))
	assert.Equal(t, spatial.Chunk{Zone: 2, X: -1, Y: -1}, spatial.At(2, -1, -16, 16))
	assert.Equal(t, spatial.Chunk{Zone: 2, X: -2, Y: 0}, spatial.At(2, -17, 0, 16))
}

func TestAroundAndGrid(t *testing.T) {
	c := spatial.Chunk{Zone: 1, X: 0, Y: 0}
	around := c.Around(1)
	assert.Len(t, around, 9)
	assert.Contains(t, around, spatial.Chunk{Zone: 1, X: -1, Y: 1})
	assert.Equal(t, []spatial.Chunk{c}, c.Around(0))
	assert.Equal(t, []spatial.Chunk{c}, c.Around(-3))

	g := spatial.Grid{Zone: 1, Width: 4, Height: 3}
	assert.Equal(t, []spatial.Chunk{{1, 0, 0}, {1, 1, 0}, {1, 0, 1}, {1, 1, 1}}, g.Around(c, 1), "the corner's neighbourhood is clipped")
	assert.Len(t, g.Around(spatial.Chunk{Zone: 1, X: 1, Y: 1}, 1), 9)
	assert.Len(t, g.Chunks(), 12)
	assert.False(t, g.Contains(spatial.Chunk{Zone: 2, X: 0, Y: 0}))
}

func TestRegions(t *testing.T) {
	k := event.MustCustom(1, 1)
	in := func(r event.Region, scope string) bool { return r.Matches(event.MustCoordinate("p", scope), k, 0) }
	zone := spatial.Zone(1)
	assert.True(t, in(zone, "zone:1/5,5"))
	assert.False(t, in(zone, "zone:10/5,5"), "zone 1's prefix is not zone 10's")
	area := spatial.Area(spatial.Chunk{Zone: 1, X: 2, Y: 2}.Around(1)...)
	assert.True(t, in(area, "zone:1/1,3"))
	assert.False(t, in(area, "zone:1/0,2"))
	assert.False(t, in(spatial.Area(), "zone:1/0,0"), "no chunk matches nothing")
}
