package reader

import (
	"errors"
	"testing"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recovered is what a recovery decided, in the terms the cases state.
type recovered struct {
	globals        []uint64 // indexed, in order
	torn           bool
	tornAt         int64
	discardedBatch bool
	removed        []uint64
	leftovers      []string
	corrupt        *event.CorruptionError // Segment and Offset; nil if none
	files          map[string]int64       // the directory afterwards: name → size
}

// flip damages one byte of data at off.
func flip(data []byte, off int64) { data[off] ^= 0x40 }

// TestRecoveryDecisions puts each decision of recovery to segments built
// for it: where damage is a torn tail to cut and where it is corruption
// to report (relative to the last segment's sync note, or without one), a
// last segment whose header a crash tore, and the files an interrupted
// compaction leaves. Each case states the index built, the report, and the
// directory left behind.
func TestRecoveryDecisions(t *testing.T) {
	name := segment.FileName
	for _, tc := range []struct {
		name     string
		readOnly bool
		build    func(fs *vfs.MemFS) recovered
	}{{
		name: "the log ends cleanly at the note",
		build: func(fs *vfs.MemFS) recovered {
			s := newLog().segment(1)
			s.event("a", kindA, "1")
			s.event("b", kindA, "2")
			s.event("a", kindB, "3")
			writeFile(t, fs, name(1), s.synced(-1).data)
			return recovered{globals: []uint64{1, 2, 3}, files: map[string]int64{name(1): s.end()}}
		},
	}, {
		name: "a frame cut short past the note is a torn tail, cut off",
		build: func(fs *vfs.MemFS) recovered {
			s := newLog().segment(1)
			s.event("a", kindA, "1")
			s.event("a", kindA, "2")
			end := s.end()
			s.synced(end).event("a", kindA, "3")
			writeFile(t, fs, name(1), s.data[:s.end()-5])
			return recovered{globals: []uint64{1, 2}, torn: true, tornAt: end, files: map[string]int64{name(1): end}}
		},
	}, {
		name: "damage past the note is a torn tail even with a valid frame after it",
		build: func(fs *vfs.MemFS) recovered {
			s := newLog().segment(1)
			s.event("a", kindA, "1")
			end := s.end()
			s.synced(end)
			bad := s.event("a", kindA, "2")
			s.event("b", kindA, "3")
			flip(s.data, bad+segment.FrameHeaderSize+3)
			writeFile(t, fs, name(1), s.data)
			return recovered{globals: []uint64{1}, torn: true, tornAt: end, files: map[string]int64{name(1): end}}
		},
	}, {
		name: "damage before the note is corruption, located",
		build: func(fs *vfs.MemFS) recovered {
			s := newLog().segment(1)
			s.event("a", kindA, "1")
			bad := s.event("a", kindA, "2")
			s.event("a", kindA, "3")
			s.synced(-1)
			flip(s.data, bad+segment.FrameHeaderSize+3)
			writeFile(t, fs, name(1), s.data)
			return recovered{corrupt: &event.CorruptionError{Segment: 1, Offset: bad}}
		},
	}, {
		name: "without a valid note, damage followed by a valid frame is corruption",
		build: func(fs *vfs.MemFS) recovered {
			s := newLog().segment(1)
			s.event("a", kindA, "1")
			bad := s.event("a", kindA, "2")
			s.event("a", kindA, "3")
			s.synced(-1)
			flip(s.data, segment.SyncNoteOffset+2)
			flip(s.data, bad+segment.FrameHeaderSize+3)
			writeFile(t, fs, name(1), s.data)
			return recovered{corrupt: &event.CorruptionError{Segment: 1, Offset: bad}}
		},
	}, {
		name: "without a valid note, damage with nothing valid after it is a torn tail",
		build: func(fs *vfs.MemFS) recovered {
			s := newLog().segment(1)
			s.event("a", kindA, "1")
			end := s.end()
			s.event("a", kindA, "2")
			s.synced(-1)
			flip(s.data, segment.SyncNoteOffset+2)
			writeFile(t, fs, name(1), s.data[:s.end()-1])
			return recovered{globals: []uint64{1}, torn: true, tornAt: end, files: map[string]int64{name(1): end}}
		},
	}, {
		name: "zeros past the note are the log's clean end, not a tear",
		build: func(fs *vfs.MemFS) recovered {
			s := newLog().segment(1)
			s.event("a", kindA, "1")
			s.synced(-1)
			size := s.end() + 4096
			writeFile(t, fs, name(1), append(s.data, make([]byte, 4096)...))
			return recovered{globals: []uint64{1}, files: map[string]int64{name(1): size}}
		},
	}, {
		name: "a batch without its COMMIT at the tail is discarded whole",
		build: func(fs *vfs.MemFS) recovered {
			s := newLog().segment(1)
			s.event("a", kindA, "1")
			end := s.end()
			s.synced(end)
			s.marker(segment.TypeBatchBegin, 2, 2)
			s.event("a", kindA, "2")
			s.event("b", kindA, "3")
			writeFile(t, fs, name(1), s.data)
			return recovered{globals: []uint64{1}, torn: true, tornAt: end, discardedBatch: true,
				files: map[string]int64{name(1): end}}
		},
	}, {
		name: "a sealed segment ending in damage is corruption, whatever the note",
		build: func(fs *vfs.MemFS) recovered {
			l := newLog()
			s1 := l.segment(1)
			s1.event("a", kindA, "1")
			bad := s1.event("a", kindA, "2")
			s2 := l.segment(2)
			s2.event("a", kindA, "3")
			writeFile(t, fs, name(1), s1.data[:s1.end()-3])
			writeFile(t, fs, name(2), s2.synced(-1).data)
			return recovered{corrupt: &event.CorruptionError{Segment: 1, Offset: bad}}
		},
	}, {
		name: "a last segment whose header a crash tore, with nothing after it, is removed",
		build: func(fs *vfs.MemFS) recovered {
			l := newLog()
			s1 := l.segment(1)
			s1.event("a", kindA, "1")
			s2 := l.segment(2)
			flip(s2.data, 3)
			writeFile(t, fs, name(1), s1.data)
			writeFile(t, fs, name(2), append(s2.data, make([]byte, 512)...))
			return recovered{globals: []uint64{1}, removed: []uint64{2}, files: map[string]int64{name(1): s1.end()}}
		},
	}, {
		name: "a last segment with a damaged header and frames after it is corruption, kept",
		build: func(fs *vfs.MemFS) recovered {
			l := newLog()
			s1 := l.segment(1)
			s1.event("a", kindA, "1")
			s2 := l.segment(2)
			s2.event("a", kindA, "2")
			flip(s2.data, 3)
			writeFile(t, fs, name(1), s1.data)
			writeFile(t, fs, name(2), s2.synced(-1).data)
			return recovered{corrupt: &event.CorruptionError{Segment: 2, Offset: 0}}
		},
	}, {
		name: "a compaction output never renamed into place is removed",
		build: func(fs *vfs.MemFS) recovered {
			l := newLog()
			s1 := l.segment(1)
			s1.event("a", kindA, "1")
			s2 := l.segment(2)
			s2.event("a", kindA, "2")
			writeFile(t, fs, name(1), s1.data)
			writeFile(t, fs, name(2), s2.synced(-1).data)
			writeFile(t, fs, segment.CompactTempName(1), s1.data[:segment.HeaderSize+10])
			return recovered{globals: []uint64{1, 2}, leftovers: []string{segment.CompactTempName(1)},
				files: map[string]int64{name(1): s1.end(), name(2): s2.end()}}
		},
	}, {
		name: "originals a compaction output in place replaces are removed",
		build: func(fs *vfs.MemFS) recovered {
			// The originals: 1 holds events 1 and 2, 2 holds 3; 3 is live.
			l := newLog()
			s1 := l.segment(1)
			s1.event("a", kindA, "1")
			s1.event("b", kindA, "2")
			s2 := l.segment(2)
			s2.event("a", kindA, "3")
			s3 := l.segment(3)
			s3.event("a", kindA, "4")
			// Compaction replaced 1 and 2 by one file named 1, dropping
			// event 2 (b's only one): a's chain goes on unbroken.
			c := newLog()
			out := c.segment(1)
			out.data = segment.AppendCompacted(out.data, segment.CompactedRecord{Through: 2, FirstGlobal: 1, LastGlobal: 3, Dropped: 1})
			out.event("a", kindA, "1")
			c.global++ // event 2 dropped
			out.event("a", kindA, "3")
			writeFile(t, fs, name(1), out.data)
			writeFile(t, fs, name(2), s2.data) // left by a crash before its removal
			writeFile(t, fs, name(3), s3.synced(-1).data)
			return recovered{globals: []uint64{1, 3, 4}, leftovers: []string{name(2)},
				files: map[string]int64{name(1): out.end(), name(3): s3.end()}}
		},
	}, {
		name:     "read-only, the last segment is indexed up to its note and nothing is cut",
		readOnly: true,
		build: func(fs *vfs.MemFS) recovered {
			s := newLog().segment(1)
			s.event("a", kindA, "1")
			end := s.end()
			s.synced(end)
			s.event("a", kindA, "2") // written, not known to be synced
			s.event("a", kindA, "3")
			size := s.end() - 4 // and a torn frame
			writeFile(t, fs, name(1), s.data[:size])
			// The tear is reported where the writer's recovery would cut
			// (after event 2), and the file is left as it is.
			return recovered{globals: []uint64{1}, torn: true, tornAt: end + int64(s.pending[1].Size),
				files: map[string]int64{name(1): size}}
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			fs := vfs.NewMem()
			want := tc.build(fs)
			rec, err := Recover(Options{FS: fs, Dir: testDir, ReadOnly: tc.readOnly})
			var got recovered
			if err != nil {
				var ce *event.CorruptionError
				require.True(t, errors.As(err, &ce), "recovery failed with %v, not a corruption error", err)
				require.ErrorIs(t, err, event.ErrCorrupt)
				got.corrupt = &event.CorruptionError{Segment: ce.Segment, Offset: ce.Offset}
			} else {
				defer rec.Segments.Close()
				for e := range rec.Index.Query(event.AllEvents(), 0) {
					got.globals = append(got.globals, e.Global)
				}
				r := rec.Report
				got.torn, got.discardedBatch = r.Torn, r.DiscardedBatch
				if r.Torn {
					got.tornAt = r.TruncatedAt
				}
				got.removed, got.leftovers = r.RemovedSegments, r.CompactionLeftovers
				if len(got.leftovers) == 0 {
					got.leftovers = nil
				}
			}
			if want.files != nil {
				got.files = listSizes(t, fs)
			}
			assert.Equal(t, want, got)
		})
	}
}

// listSizes lists the files of testDir with their sizes.
func listSizes(t *testing.T, fs *vfs.MemFS) map[string]int64 {
	t.Helper()
	names, err := fs.List(testDir)
	require.NoError(t, err)
	out := make(map[string]int64, len(names))
	for _, n := range names {
		f, err := fs.Open(testDir + "/" + n)
		require.NoError(t, err)
		size, err := f.Size()
		require.NoError(t, err)
		require.NoError(t, f.Close())
		out[n] = size
	}
	return out
}
