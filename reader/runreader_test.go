package reader

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// at is an entry of segment seg at offset off, size bytes long.
func at(seg uint32, off, size uint32) index.Entry {
	return index.Entry{Segment: seg, Offset: off, Size: size}
}

// TestNextRunSplits: a run is frames of one segment, in file order, each
// at most the gap after the previous one, within the span from the run's
// start; a frame larger than the span is a run of its own.
func TestNextRunSplits(t *testing.T) {
	l := runLimits{span: 1000, gap: 100}
	for _, tc := range []struct {
		name    string
		es      []index.Entry
		n       int
		wantEnd int64
	}{
		{"back to back", []index.Entry{at(1, 48, 100), at(1, 148, 100), at(1, 248, 100)}, 3, 348},
		{"a gap of exactly the bound is read through", []index.Entry{at(1, 48, 100), at(1, 248, 100)}, 2, 348},
		{"a wider gap ends the run", []index.Entry{at(1, 48, 100), at(1, 249, 100)}, 1, 148},
		{"another segment ends the run", []index.Entry{at(1, 48, 100), at(2, 148, 100)}, 1, 148},
		{"a frame before the previous one's end ends the run", []index.Entry{at(1, 480, 100), at(1, 48, 100)}, 1, 580},
		{"the span ends the run", []index.Entry{at(1, 48, 400), at(1, 448, 400), at(1, 848, 400)}, 2, 848},
		{"the span counts the gaps", []index.Entry{at(1, 0, 450), at(1, 500, 450), at(1, 1000, 10)}, 2, 950},
		{"a frame larger than the span is a run of its own", []index.Entry{at(1, 48, 5000), at(1, 5048, 10)}, 1, 5048},
		{"one entry", []index.Entry{at(3, 48, 10)}, 1, 58},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, end := l.nextRun(tc.es)
			assert.Equal(t, tc.n, n, "entries in the run")
			assert.Equal(t, tc.wantEnd, end, "the run's end")
		})
	}
}

// TestNextPartBoundsFrameBytes: a part is entries whose frames add up to
// at most the span, gaps and segments aside; its first entry always fits.
func TestNextPartBoundsFrameBytes(t *testing.T) {
	l := runLimits{span: 1000, gap: 100}
	for _, tc := range []struct {
		name string
		es   []index.Entry
		n    int
		size int
	}{
		{"up to the span", []index.Entry{at(1, 48, 400), at(1, 9000, 600), at(2, 48, 1)}, 2, 1000},
		{"across segments and gaps", []index.Entry{at(1, 48, 100), at(5, 48000, 100)}, 2, 200},
		{"a large first frame alone", []index.Entry{at(1, 48, 4000), at(1, 4048, 1)}, 1, 4000},
		{"nothing", nil, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, size := l.nextPart(tc.es)
			assert.Equal(t, tc.n, n)
			assert.Equal(t, tc.size, size)
		})
	}
}

// countingFile counts the ReadAt calls made on a segment file.
type countingFile struct {
	vfs.File
	reads *atomic.Int64
}

func (f countingFile) ReadAt(p []byte, off int64) (int, error) {
	f.reads.Add(1)
	return f.File.ReadAt(p, off)
}

// interleaved builds two segments in which entities a and b alternate,
// with events of several sizes; batch markers lie between some.
func interleaved() (*seg, *seg) {
	l := newLog()
	s1, s2 := l.segment(1), l.segment(2)
	for i := range 12 {
		s := s1
		if i >= 8 {
			s = s2
		}
		if i == 4 {
			s.marker(segment.TypeBatchBegin, 2, l.global+1)
		}
		s.event("a", kindA, strings.Repeat("a", 10+i))
		s.event("b", kindB, strings.Repeat("b", 30+5*i))
		if i == 4 {
			s.marker(segment.TypeBatchCommit, 2, l.global-1)
		}
	}
	return s1.synced(-1), s2.synced(-1)
}

// fileSystems are the two ways a segment is read: a file system that
// maps (the OS's, where it can), whose frames are copied out of the
// mapping, and one that does not, whose runs are read with ReadAt.
func fileSystems(t *testing.T) map[string]func() (vfs.FS, string) {
	return map[string]func() (vfs.FS, string){
		"unmapped": func() (vfs.FS, string) { return vfs.NewMem(), testDir },
		"os":       func() (vfs.FS, string) { return vfs.OS, t.TempDir() },
	}
}

// TestRunReaderReadsEachRunWithOneCall: on a file system that does not
// map, each run the limits allow is read with one ReadAt; the events are
// the same whatever the limits.
func TestRunReaderReadsEachRunWithOneCall(t *testing.T) {
	s1, s2 := interleaved()
	set, x := open(t, vfs.NewMem(), testDir, s1, s2)
	var reads atomic.Int64
	set.mu.Lock()
	for _, sf := range set.files {
		sf.f = countingFile{File: sf.f, reads: &reads}
	}
	set.mu.Unlock()

	all := entries(x)
	var onlyA []index.Entry // a's frames, with one of b's between each two
	for _, e := range all {
		if x.EntityName(e.Entity) == "a" {
			onlyA = append(onlyA, e)
		}
	}
	bSize := int64(all[1].Size)            // the smallest of b's frames
	markers := int64(s1.pending[8].Offset) // BEGIN lies before event 9 (a's fifth)
	markers -= int64(s1.pending[7].Offset + s1.pending[7].Size)
	for _, tc := range []struct {
		name  string
		es    []index.Entry
		lim   runLimits
		reads int64
	}{
		{"every frame, markers read through: a run per segment", all, runLimits{span: 1 << 20, gap: markers}, 2},
		{"a gap below the markers splits at BEGIN and COMMIT", all, runLimits{span: 1 << 20, gap: markers - 1}, 4},
		{"one entity: the other's frames read through", onlyA, runLimits{span: 1 << 20, gap: 1 << 10}, 2},
		{"one entity: a gap below the other's frames", onlyA, runLimits{span: 1 << 20, gap: bSize - 1}, int64(len(onlyA))},
		// Frames grow: only the first two fit the span together.
		{"a small span", all, runLimits{span: int64(all[0].Size + all[1].Size), gap: 1 << 10}, 23},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := set.Runs(x)
			defer r.Release()
			r.lim = tc.lim
			var got []uint64
			reads.Store(0)
			require.NoError(t, r.Each(tc.es, func(ev *event.StoredEvent) error {
				got = append(got, ev.Global)
				return nil
			}))
			var want []uint64
			for _, e := range tc.es {
				want = append(want, e.Global)
			}
			assert.Equal(t, want, got)
			assert.Equal(t, tc.reads, reads.Load(), "ReadAt calls")
		})
	}
}

// eventOf reads e's event on its own (Segments.Read), for comparison.
func eventOf(t *testing.T, set *Segments, x *index.Index, e index.Entry) event.StoredEvent {
	t.Helper()
	ev, err := set.Read(x, e)
	require.NoError(t, err)
	return *ev
}

// TestRunReaderFillAndEachDecodeAlike: Fill and Each decode every event as
// a read of the event on its own does, with its coordinate from the index,
// on a mapped and an unmapped file system, with large limits and tiny ones.
func TestRunReaderFillAndEachDecodeAlike(t *testing.T) {
	for fsName, mk := range fileSystems(t) {
		for _, lim := range []runLimits{defaultLimits, {span: 64, gap: 0}} {
			t.Run(fmt.Sprintf("%s/span=%d", fsName, lim.span), func(t *testing.T) {
				fs, dir := mk()
				s1, s2 := interleaved()
				set, x := open(t, fs, dir, s1, s2)
				all := entries(x)
				r := set.Runs(x)
				defer r.Release()
				r.lim = lim

				dst := make([]*event.StoredEvent, len(all))
				n, err := r.Fill(all, dst)
				require.NoError(t, err)
				require.Equal(t, len(all), n)
				var each []event.StoredEvent
				require.NoError(t, r.Each(all, func(ev *event.StoredEvent) error {
					c := *ev
					c.Payload = append([]byte(nil), ev.Payload...)
					each = append(each, c)
					return nil
				}))
				require.Len(t, each, len(all))
				for i, e := range all {
					want := eventOf(t, set, x, e)
					assert.Equal(t, want, *dst[i], "Fill, event %d", e.Global)
					assert.Equal(t, want, each[i], "Each, event %d", e.Global)
					assert.Equal(t, x.EntityName(e.Entity), dst[i].Coordinate.Entity())
				}
			})
		}
	}
}

// TestRunReaderFilledEventsAreTheCallers: events from Fill do not share
// memory with the reader's reused buffer: reading more through the same
// reader leaves them as they were, and appending to a payload never
// writes over its neighbour.
func TestRunReaderFilledEventsAreTheCallers(t *testing.T) {
	s1, s2 := interleaved()
	set, x := open(t, vfs.NewMem(), testDir, s1, s2)
	all := entries(x)
	r := set.Runs(x)
	defer r.Release()
	first := make([]*event.StoredEvent, 4)
	_, err := r.Fill(all[:4], first)
	require.NoError(t, err)
	before := make([]string, len(first))
	for i, ev := range first {
		before[i] = string(ev.Payload)
	}
	_ = append(first[0].Payload, "over the next payload"...)
	rest := make([]*event.StoredEvent, len(all)-4)
	_, err = r.Fill(all[4:], rest)
	require.NoError(t, err)
	require.NoError(t, r.Each(all, func(*event.StoredEvent) error { return nil }))
	for i, ev := range first {
		assert.Equal(t, before[i], string(ev.Payload), "event %d", ev.Global)
	}
}

// TestRunReaderAllocations: Each allocates nothing per event (projections
// fold without garbage); Fill allocates twice per part, once for the
// events and once for their payloads.
func TestRunReaderAllocations(t *testing.T) {
	s1, s2 := interleaved()
	set, x := open(t, vfs.OS, t.TempDir(), s1, s2)
	all := entries(x)
	r := set.Runs(x)
	defer r.Release()
	count := 0
	fn := func(*event.StoredEvent) error { count++; return nil }
	require.NoError(t, r.Each(all, fn)) // grows the buffers
	assert.Zero(t, testing.AllocsPerRun(20, func() { _ = r.Each(all, fn) }), "Each")

	dst := make([]*event.StoredEvent, len(all))
	assert.Equal(t, 2.0, testing.AllocsPerRun(20, func() { _, _ = r.Fill(all, dst) }), "Fill, one part")
	r.lim = runLimits{span: int64(all[0].Size), gap: 0} // a part per event
	assert.Equal(t, float64(2*len(all)), testing.AllocsPerRun(20, func() { _, _ = r.Fill(all, dst) }), "Fill, a part per event")
}

// TestRunReaderLocatesDamage: a frame that fails its CRC, or holds another
// event than its entry's (another global sequence, entity sequence or
// kind), is a *event.CorruptionError naming the segment and the offset
// the entry points at. Fill returns the events before it; Each has handed
// them out.
func TestRunReaderLocatesDamage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(s *seg) // applied before the segment is written
		cause  string
	}{
		{"a frame failing its checksum", func(s *seg) { flip(s.data, int64(s.pending[3].Offset)+segment.FrameHeaderSize+4) }, "checksum"},
		{"another event's frame", func(s *seg) {
			// Entries 3 and 4 of a's stream swapped: same sizes, valid frames.
			s.pending[3].Offset, s.pending[4].Offset = s.pending[4].Offset, s.pending[3].Offset
		}, "frame holds event"},
		{"a frame of another kind", func(s *seg) { s.pending[3].Kind = kindB }, "kind"},
	} {
		for fsName, mk := range fileSystems(t) {
			t.Run(tc.name+"/"+fsName, func(t *testing.T) {
				l := newLog()
				s := l.segment(7)
				for i := range 6 {
					s.event("a", kindA, fmt.Sprintf("payload %d", i))
				}
				tc.damage(s)
				fs, dir := mk()
				set, x := open(t, fs, dir, s.synced(-1))
				all := entries(x)
				bad := all[3]
				r := set.Runs(x)
				defer r.Release()

				dst := make([]*event.StoredEvent, len(all))
				n, err := r.Fill(all, dst)
				assert.Equal(t, 3, n, "events read before the damage")
				var ce *event.CorruptionError
				require.True(t, errors.As(err, &ce), "Fill: %v", err)
				assert.Equal(t, uint64(7), ce.Segment)
				assert.Equal(t, int64(bad.Offset), ce.Offset)
				assert.Contains(t, ce.Error(), tc.cause)
				require.ErrorIs(t, err, event.ErrCorrupt)

				seen := 0
				err = r.Each(all, func(*event.StoredEvent) error { seen++; return nil })
				require.True(t, errors.As(err, &ce), "Each: %v", err)
				assert.Equal(t, int64(bad.Offset), ce.Offset)
				assert.Equal(t, 3, seen)
			})
		}
	}
}

// TestRunReaderEntriesBeforeACompaction: entries taken before a compaction
// name a segment it retired. Their events are read where compaction moved
// them (byte for byte the same frames); the events it dropped are reported
// (nil from Fill) or skipped (Each), as a read begun after it would.
func TestRunReaderEntriesBeforeACompaction(t *testing.T) {
	for fsName, mk := range fileSystems(t) {
		t.Run(fsName, func(t *testing.T) {
			l := newLog()
			s := l.segment(1)
			for i := range 10 {
				s.event([]string{"keep", "drop"}[i%2], kindA, fmt.Sprintf("payload %d", i))
			}
			s.synced(-1)
			fs, dir := mk()
			set, x := open(t, fs, dir, s)
			stale := entries(x)
			want := make(map[uint64]event.StoredEvent)
			for _, e := range stale {
				want[e.Global] = eventOf(t, set, x, e)
			}

			// The compaction: keep's frames copied into a new segment
			// (file 2), the index rewritten to point there, segment 1
			// retired.
			out := l.segment(2)
			out.data = segment.AppendCompacted(out.data, segment.CompactedRecord{Through: 1, FirstGlobal: 1, LastGlobal: 10, Dropped: 5})
			moved := make(map[uint64]uint32) // global → new offset
			for _, e := range stale {
				if x.EntityName(e.Entity) == "keep" {
					moved[e.Global] = uint32(len(out.data))
					out.data = append(out.data, s.data[e.Offset:e.Offset+e.Size]...)
				}
			}
			f, err := fs.Create(filepath.Join(dir, segment.FileName(2)))
			require.NoError(t, err)
			_, err = f.WriteAt(out.data, 0)
			require.NoError(t, err)
			id := set.AddCompacted(2, f)
			x.Rewrite(func(e *index.Entry) bool {
				off, ok := moved[e.Global]
				e.Segment, e.Offset = id, off
				return ok
			})
			set.Retire([]uint32{1}, x)

			r := set.Runs(x)
			defer r.Release()
			dst := make([]*event.StoredEvent, len(stale))
			n, err := r.Fill(stale, dst)
			require.NoError(t, err)
			require.Equal(t, len(stale), n)
			var each []uint64
			require.NoError(t, r.Each(stale, func(ev *event.StoredEvent) error {
				assert.Equal(t, want[ev.Global], *ev)
				each = append(each, ev.Global)
				return nil
			}))
			var kept []uint64
			for i, e := range stale {
				if _, ok := moved[e.Global]; !ok {
					assert.Nil(t, dst[i], "event %d was dropped", e.Global)
					continue
				}
				kept = append(kept, e.Global)
				if assert.NotNil(t, dst[i], "event %d", e.Global) {
					assert.Equal(t, want[e.Global], *dst[i])
				}
			}
			assert.Equal(t, kept, each)
		})
	}
}

// TestRunReaderBufferStaysBounded: where runs are read with their gaps (a
// file system that does not map), the frames are slid down over the gaps,
// so the part's buffer holds no more than the part's frames and one run:
// at most twice the span. The events are the same as read one by one.
func TestRunReaderBufferStaysBounded(t *testing.T) {
	// Small frames of a, each after a large frame of b: runs of a's
	// frames are mostly gaps.
	l := newLog()
	s := l.segment(1)
	for i := range 30 {
		s.event("a", kindA, fmt.Sprint(i%10))
		s.event("b", kindB, strings.Repeat("b", 150))
	}
	set, x := open(t, vfs.NewMem(), testDir, s.synced(-1))
	var onlyA []index.Entry
	for _, e := range entries(x) {
		if x.EntityName(e.Entity) == "a" {
			onlyA = append(onlyA, e)
		}
	}
	aSize, bSize := int64(onlyA[0].Size), int64(s.pending[1].Size)
	for _, lim := range []runLimits{
		{span: 7 * aSize, gap: bSize}, // gapped runs
		{span: 7 * aSize, gap: 0},     // a run per frame
		{span: 1 << 20, gap: bSize},   // one run
	} {
		t.Run(fmt.Sprintf("span=%d,gap=%d", lim.span, lim.gap), func(t *testing.T) {
			r := set.Runs(x)
			defer r.Release()
			r.lim, r.buf = lim, nil
			var got []event.StoredEvent
			require.NoError(t, r.Each(onlyA, func(ev *event.StoredEvent) error {
				c := *ev
				c.Payload = append([]byte(nil), ev.Payload...)
				got = append(got, c)
				return nil
			}))
			require.Len(t, got, len(onlyA))
			for i, e := range onlyA {
				assert.Equal(t, eventOf(t, set, x, e), got[i])
			}
			assert.LessOrEqual(t, cap(r.buf), 2*int(lim.span), "the part buffer")
		})
	}
}
