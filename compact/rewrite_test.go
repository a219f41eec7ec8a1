package compact

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

const dir = "/store"

var created = time.Unix(1_700_000_000, 0)

// store writes segments into a fresh in-memory directory, with a
// checkpoint file (whose contents do not matter here) beside them.
func store(t *testing.T, segs ...*segBuilder) *vfs.MemFS {
	t.Helper()
	fs := vfs.NewMem()
	require.NoError(t, fs.MkdirAll(dir))
	for _, b := range segs {
		writeFile(t, fs, segment.FileName(b.file), b.buf)
	}
	writeFile(t, fs, reader.CheckpointFile, []byte("checkpoint"))
	return fs
}

func writeFile(t *testing.T, fs vfs.FS, name string, b []byte) {
	t.Helper()
	f, err := fs.Create(filepath.Join(dir, name))
	require.NoError(t, err)
	_, err = f.WriteAt(b, 0)
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
	require.NoError(t, fs.SyncDir(dir))
}

func readFile(t *testing.T, fs vfs.FS, name string) []byte {
	t.Helper()
	f, err := fs.Open(filepath.Join(dir, name))
	require.NoError(t, err)
	defer f.Close()
	size, err := f.Size()
	require.NoError(t, err)
	b := make([]byte, size)
	_, err = f.ReadAt(b, 0)
	require.NoError(t, err)
	return b
}

func list(t *testing.T, fs vfs.FS) []string {
	t.Helper()
	names, err := fs.List(dir)
	require.NoError(t, err)
	return names
}

// threeSegments: 1 and 2 lose events of "b", 3 loses nothing.
func threeSegments() []*segBuilder {
	return []*segBuilder{
		newSeg(1).ev("a", 1, 0).ev("b", 2, 0).ev("a", 3, 1).footer(),
		newSeg(2).begin(2, 4).ev("b", 4, 1).ev("c", 5, 0).commit(2, 4).ev("b", 6, 2).footer(),
		newSeg(3).ev("c", 7, 1).ev("a", 8, 2).footer(),
	}
}

func planAll(t *testing.T, bs []*segBuilder, retain Retain) []*Segment {
	t.Helper()
	var out []*Segment
	for _, b := range bs {
		p, err := PlanSegment(b.info(), b.buf, retain)
		require.NoError(t, err)
		out = append(out, p)
	}
	return out
}

func closeCommitted(r *Rewritten) {
	for _, d := range r.done {
		d.file.Close()
	}
}

func TestRewriteReplacesAGroupByOneFile(t *testing.T) {
	bs := threeSegments()
	fs := store(t, bs...)
	plans := planAll(t, bs, dropEntities("b"))
	groups := Group(plans, 1<<20)
	require.Len(t, groups, 1)

	out, err := Files{FS: fs, Dir: dir, Clock: func() time.Time { return created }}.Rewrite(context.Background(), groups)
	require.NoError(t, err)
	defer closeCommitted(out)

	assert.Equal(t, []string{segment.FileName(1)}, list(t, fs), "the group's first file replaced, the others and the checkpoint gone")
	want, _, _, err := Encode(groups[0], created.UnixNano())
	require.NoError(t, err)
	assert.Equal(t, want, readFile(t, fs, segment.FileName(1)))

	before := int64(len(bs[0].buf) + len(bs[1].buf) + len(bs[2].buf))
	assert.Equal(t, 1, out.SegmentsWritten)
	assert.Equal(t, 3, out.SegmentsRemoved)
	assert.Equal(t, 6, out.EventsKept, "a1 a3, b4 c5 (their batch kept whole), c7 a8")
	assert.Equal(t, 2, out.EventsDropped, "b2 and b6")
	assert.Equal(t, before, out.BytesBefore)
	assert.Equal(t, int64(len(want)), out.BytesAfter)
	assert.Equal(t, 1, out.Committed())

	entities, through := out.Lost()
	assert.Equal(t, []string{"b"}, entities)
	assert.Equal(t, uint64(8), through, "the newest global the replaced segments held")
}

// TestRewriteKeepsWhatWasCommittedBeforeAFailure: a failure in the second
// group's rename leaves the first group in place and reported, and the
// second group's segment as it was.
func TestRewriteKeepsWhatWasCommittedBeforeAFailure(t *testing.T) {
	bs := threeSegments()
	bs[2] = newSeg(3).ev("b", 7, 3).ev("a", 8, 2).footer() // loses b7: a group of its own
	mem := store(t, bs...)
	fs := vfs.NewFaulty(mem)
	fs.Inject(vfs.Rule{Op: vfs.OpRename, Nth: 2})
	plans := planAll(t, bs, dropEntities("b"))
	groups := Group(plans, plans[0].Bytes()+plans[1].Bytes())
	require.Len(t, groups, 2)

	out, err := Files{FS: fs, Dir: dir, Clock: func() time.Time { return created }}.Rewrite(context.Background(), groups)
	require.ErrorIs(t, err, vfs.ErrInjected)
	defer closeCommitted(out)

	assert.Equal(t, 1, out.Committed())
	assert.Equal(t, 1, out.SegmentsWritten)
	assert.Equal(t, 2, out.SegmentsRemoved)
	assert.Equal(t, bs[2].buf, readFile(t, mem, segment.FileName(3)), "the failed group's segment is untouched")
	assert.NotContains(t, list(t, mem), segment.FileName(2))
	entities, through := out.Lost()
	assert.Equal(t, []string{"b"}, entities)
	assert.Equal(t, uint64(6), through, "only the committed group counts")
}

func TestRewriteStopsBeforeAGroupOnceTheContextEnds(t *testing.T) {
	bs := threeSegments()
	fs := store(t, bs...)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out, err := Files{FS: fs, Dir: dir, Clock: time.Now}.Rewrite(ctx, Group(planAll(t, bs, nil), 1<<20))
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, out.Committed())
	for _, b := range bs {
		assert.Equal(t, b.buf, readFile(t, fs, segment.FileName(b.file)))
	}
	assert.NotContains(t, list(t, fs), reader.CheckpointFile, "the checkpoint goes first, before any group")
}

// TestApplyMovesTheIndexToTheNewFile recovers a store, compacts its sealed
// segments and applies the result: kept events are read from the new file
// through the rewritten index, dropped ones are gone from it, the
// barrier runs once, and the replaced segments leave the segment set.
func TestApplyMovesTheIndexToTheNewFile(t *testing.T) {
	bs := append(threeSegments(), newSeg(4).ev("a", 9, 3)) // 4 is the active segment
	fs := store(t, bs...)
	require.NoError(t, fs.Remove(filepath.Join(dir, reader.CheckpointFile)))
	rec, err := reader.Recover(reader.Options{FS: fs, Dir: dir})
	require.NoError(t, err)
	defer rec.Segments.Close()
	segs, idx := rec.Segments, rec.Index
	ctx := context.Background()

	live := segs.Live()
	require.Len(t, live, 4)
	plan, err := Read(ctx, segs, live[:3], Rules{Retain: dropEntities("b")}, 1<<20)
	require.NoError(t, err)
	require.Len(t, plan.Segments, 3)
	require.Len(t, plan.Groups, 1)
	out, err := Files{FS: fs, Dir: dir, Clock: time.Now}.Rewrite(ctx, plan.Groups)
	require.NoError(t, err)
	barriers := 0
	out.Apply(segs, idx, func() { barriers++ })
	plan.Release()
	assert.Equal(t, 1, barriers)

	after := segs.Live()
	require.Len(t, after, 2)
	assert.GreaterOrEqual(t, uint64(after[0].ID), uint64(reader.FirstCompactedID), "the new file has a fresh in-memory id")
	assert.Equal(t, uint64(1), after[0].File)
	assert.Equal(t, uint64(4), after[1].File)
	_, retired := segs.SizeInfo(0)
	assert.Zero(t, retired, "released once the plan lets go")

	for g := uint64(1); g <= 9; g++ {
		e, ok := idx.LookupID(testID(g))
		if g == 2 || g == 6 {
			assert.False(t, ok, "b%d was dropped", g)
			continue
		}
		require.True(t, ok, "event %d", g)
		ev, err := segs.Read(idx, e)
		require.NoError(t, err, "event %d", g)
		assert.Equal(t, g, ev.Global)
		if g < 9 {
			assert.Equal(t, after[0].ID, e.Segment, "event %d moved to the new file", g)
		}
	}
	var globals []uint64
	for e := range idx.Query(event.AllEvents(), 0) {
		globals = append(globals, e.Global)
	}
	assert.Equal(t, []uint64{1, 3, 4, 5, 7, 8, 9}, globals)
}

// Apply on nothing committed does nothing, and calls no barrier.
func TestApplyWithNothingCommittedIsANoOp(t *testing.T) {
	barriers := 0
	(&Rewritten{}).Apply(reader.NewSegments(), index.New(), func() { barriers++ })
	assert.Zero(t, barriers)
}
