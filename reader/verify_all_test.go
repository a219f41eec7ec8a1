package reader_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

var ctx = context.Background()

// threeSegments writes a closed store of three or more small segments on
// a MemFS and returns it with its segment file names.
func threeSegments(t *testing.T) (*vfs.MemFS, []string) {
	t.Helper()
	mem := vfs.NewMem()
	s, err := batpak.Open(dir, batpak.WithFS(mem), batpak.WithSegmentSize(64<<10))
	require.NoError(t, err)
	pad := strings.Repeat("x", 2000)
	for i := range 90 {
		_, err := s.Append(ctx, event.MustCoordinate(fmt.Sprintf("player:%d", i%3), "room:1"), event.MustCustom(1, 1), map[string]any{"i": i, "pad": pad})
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())
	var segs []string
	names, err := mem.List(dir)
	require.NoError(t, err)
	for _, n := range names {
		if _, ok := segment.ParseFileName(n); ok {
			segs = append(segs, filepath.Join(dir, n))
		}
	}
	require.GreaterOrEqual(t, len(segs), 3)
	return mem, segs
}

// flipInFrame flips a byte inside the nth frame of a segment file and
// returns the frame's offset.
func flipInFrame(t *testing.T, mem *vfs.MemFS, name string, nth int) int64 {
	t.Helper()
	f, err := mem.OpenRW(name)
	require.NoError(t, err)
	defer f.Close()
	size, err := f.Size()
	require.NoError(t, err)
	data := make([]byte, size)
	_, err = f.ReadAt(data, 0)
	require.NoError(t, err)
	off := int64(segment.HeaderSize)
	for range nth {
		_, n, err := segment.ReadFrame(data[off:])
		require.NoError(t, err)
		off += int64(n)
	}
	_, err = f.WriteAt([]byte{data[off+40] ^ 0x01}, off+40)
	require.NoError(t, err)
	return off
}

// offsets returns the segment and offset each problem names.
func offsets(t *testing.T, problems []error) []string {
	var out []string
	for _, p := range problems {
		var ce *event.CorruptionError
		if errors.As(p, &ce) {
			out = append(out, fmt.Sprintf("%016x@%d", ce.Segment, ce.Offset))
		} else {
			out = append(out, p.Error())
		}
	}
	return out
}

// Verify stops at the first problem; with All it lists every damaged
// frame, in log order, and checks the events after each.
func TestVerifyAllGoesOnAfterEachProblem(t *testing.T) {
	mem, segs := threeSegments(t)
	first := flipInFrame(t, mem, segs[0], 3)
	last := flipInFrame(t, mem, segs[2], 1)

	one, err := reader.Verify(ctx, mem, dir, nil)
	require.NoError(t, err)
	require.Len(t, one.Problems, 1)
	assert.Equal(t, one.Problem, one.Problems[0])
	assert.Equal(t, []string{fmt.Sprintf("%016x@%d", 1, first)}, offsets(t, one.Problems))

	all, err := reader.VerifyWith(ctx, mem, dir, reader.VerifyOptions{All: true})
	require.NoError(t, err)
	assert.False(t, all.OK())
	assert.Equal(t, one.Problem.Error(), all.Problem.Error(), "the first problem is the same")
	got := offsets(t, all.Problems)
	require.Contains(t, got, fmt.Sprintf("%016x@%d", 1, first))
	require.Contains(t, got, fmt.Sprintf("%016x@%d", 3, last))
	// The lost events also break their entities' sequences: reported as
	// chain problems at the next event of each of those entities.
	chain := 0
	for _, p := range all.Problems {
		if errors.Is(p, reader.ErrChainBroken) {
			chain++
		}
	}
	assert.Equal(t, 2, chain, "%v", got)
	assert.Equal(t, 88, all.Events, "every intact event checked")
	assert.Greater(t, all.Segments, one.Segments)
}

// A missing middle segment is an error for Verify; with All it is one
// problem among the others, and the segments after it are checked.
func TestVerifyAllReportsAMissingSegmentAndGoesOn(t *testing.T) {
	mem, segs := threeSegments(t)
	require.NoError(t, mem.Remove(segs[1]))

	_, err := reader.Verify(ctx, mem, dir, nil)
	require.ErrorIs(t, err, reader.ErrMissingSegment)

	all, err := reader.VerifyWith(ctx, mem, dir, reader.VerifyOptions{All: true})
	require.NoError(t, err)
	require.NotEmpty(t, all.Problems)
	assert.ErrorIs(t, all.Problems[0], reader.ErrMissingSegment)
	assert.Contains(t, all.Problems[0].Error(), fmt.Sprintf("%016x", 2))
	assert.Equal(t, len(segs)-1, all.Segments)
	for _, p := range all.Problems[1:] {
		assert.ErrorIs(t, p, reader.ErrChainBroken, "the entities' sequences jump over the lost segment")
	}
}
