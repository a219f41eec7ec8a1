package jetstream

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLinkSeqs(t *testing.T) {
	assert.Empty(t, linkSeqs(0))
	assert.Equal(t, []uint64{0}, linkSeqs(1))
	assert.Equal(t, []uint64{1, 0}, linkSeqs(2))
	assert.Equal(t, []uint64{99, 98, 96, 64, 0}, linkSeqs(100))
	assert.Equal(t, []uint64{63, 62, 60, 56, 48, 32, 0}, linkSeqs(64))
}

// TestNextLinks builds every event's links the way a writer does, from
// its predecessor's alone, and checks them against linkSeqs: event k+1
// links to exactly the events linkSeqs(k+1) names.
func TestNextLinks(t *testing.T) {
	global := func(k uint64) uint64 { return 10 + 3*k } // event k's stream sequence
	var links []link
	for k := uint64(0); k < 5000; k++ {
		next, ok := nextLinks(k, link{seq: global(k), item: -1}, links)
		require.True(t, ok, "k=%d", k)
		want := linkSeqs(k + 1)
		require.Len(t, next, len(want), "k=%d", k)
		for i, ks := range want {
			require.Equal(t, global(ks), next[i].seq, "event %d link %d", k+1, i)
		}
		links = next
	}
	_, ok := nextLinks(7, link{seq: 1, item: -1}, absLinks([]uint64{5}))
	assert.False(t, ok, "links that do not fit the sequence are refused")
}

// TestLinksFormat writes links as a batch item does (some to earlier
// items, whose stream sequences follow from the item's own) and reads
// them back as a reader does, from the stored message's sequence.
func TestLinksFormat(t *testing.T) {
	// Event 6 of an entity, batch item 4 stored at 1004; items 3 and 1
	// (1003, 1001) are its events 5 and 4, the rest was stored before.
	ls := []link{{item: 3}, {item: 1}, {seq: 700, item: -1}}
	require.Equal(t, []uint64{5, 4, 0}, linkSeqs(6))
	v := formatLinks(ls, 4)
	assert.Equal(t, "b1,b3,700", v)
	got, err := parseLinks(v, 1004, 6)
	require.NoError(t, err)
	assert.Equal(t, []uint64{1003, 1001, 700}, got)

	abs := absLinks([]uint64{9000, 8800, 8000, 12})
	v = formatLinks(abs, -1)
	assert.Equal(t, "9000,200,800,7988", v)
	got, err = parseLinks(v, 9500, 8) // linkSeqs(8) = 7, 6, 4, 0
	require.NoError(t, err)
	assert.Equal(t, []uint64{9000, 8800, 8000, 12}, got)

	got, err = parseLinks("", 5, 0)
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestParseLinksRefuses(t *testing.T) {
	for _, c := range []struct {
		v      string
		own, k uint64
		why    string
	}{
		{"", 100, 1, "missing"},
		{"5", 100, 0, "links on an entity's first event"},
		{"5,1", 100, 1, "more links than the sequence has"},
		{"5", 100, 2, "fewer links than the sequence has"},
		{"100", 100, 1, "a link to the message itself"},
		{"200", 100, 1, "a link past the message"},
		{"0", 100, 1, "a link to sequence 0"},
		{"50,0", 100, 2, "a repeated link"},
		{"50,60", 100, 2, "a link below zero"},
		{"50,b1", 100, 2, "a batch link after an absolute one"},
		{"b0", 100, 1, "a batch link to the message itself"},
		{"b100", 100, 1, "a batch link before the stream"},
		{"x", 100, 1, "not a number"},
		{"5,", 100, 2, "an empty link"},
	} {
		_, err := parseLinks(c.v, c.own, c.k)
		assert.ErrorIs(t, err, errBadLinks, "%s: %q", c.why, c.v)
	}
}
