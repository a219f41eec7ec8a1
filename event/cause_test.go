package event

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCauseConstructorsNameTheirKind(t *testing.T) {
	id := NewGenerator(ID{}).Next(1_700_000_000_000)
	assert.Equal(t, Cause{}, Cause{Kind: CauseNone}, "the zero Cause means none")
	assert.Equal(t, Cause{Kind: CauseByItem, Index: 2}, CauseItem(2))
	assert.Equal(t, Cause{Kind: CauseByLatestOf, Entity: "order:1"}, CauseLatestOf("order:1"))
	assert.Equal(t, Cause{Kind: CauseByID, ID: id}, CauseID(id))
}

// A seeded generator gives the same ids for the same clock readings, and
// still only increasing ones.
func TestSeededGeneratorIsDeterministic(t *testing.T) {
	seed := [32]byte{7}
	a, b := NewSeededGenerator(ID{}, seed), NewSeededGenerator(ID{}, seed)
	var prev ID
	for _, ms := range []int64{1_700_000_000_000, 1_700_000_000_000, 1_700_000_000_005, 1_699_000_000_000} {
		x, y := a.Next(ms), b.Next(ms)
		require.Equal(t, x, y)
		require.Positive(t, x.Compare(prev))
		prev = x
	}
	other := NewSeededGenerator(ID{}, [32]byte{8}).Next(1_700_000_000_000)
	assert.NotEqual(t, NewSeededGenerator(ID{}, seed).Next(1_700_000_000_000), other)
}
