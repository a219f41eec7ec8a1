package salvage_test

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/salvage"
	"github.com/batpak-go/batpak/segment"
)

// damageCase damages a source store the way the reliability suite does
// and says which events that loses.
type damageCase struct {
	name       string
	checkpoint bool // keep the source's checkpoint
	// damage changes the source and returns the globals of the events it
	// destroys or makes unkeepable (a batch loses all its events).
	damage func(t *testing.T, src *source, recs []loc) []uint64
	// check looks at the report beyond what every case checks.
	check func(t *testing.T, src *source, rep *salvage.Report)
}

// batchOf returns the globals of the batch holding g, or just g.
func (s *source) batchOf(g uint64) []uint64 {
	for first, gs := range s.batches {
		if g >= first && g < first+uint64(len(gs)) {
			return gs
		}
	}
	return []uint64{g}
}

// aBatch returns the globals of a batch that lies in the source's first
// segment, and one in a later segment.
func (s *source) aBatch(t *testing.T, recs []loc, sealed bool) []uint64 {
	t.Helper()
	names := segmentNames(t, s.dir)
	for _, first := range slices.Sorted(maps.Keys(s.batches)) {
		r := find(t, recs, segment.TypeBatchBegin, first)
		if (r.file == names[0]) == sealed {
			return s.batches[first]
		}
	}
	t.Fatal("no batch in the wanted segment")
	return nil
}

// single returns the global of a single event (not in a batch) of the
// given segment (by index) whose entity has later events.
func (s *source) single(t *testing.T, recs []loc, seg int) uint64 {
	t.Helper()
	name := segmentNames(t, s.dir)[seg]
	for _, r := range recs {
		if r.file == name && r.typ == segment.TypeEvent && len(s.batchOf(r.global)) == 1 && r.off > 4000 {
			return r.global
		}
	}
	t.Fatal("no single event")
	return 0
}

func eventsOfSegment(t *testing.T, recs []loc, file string) []uint64 {
	var gs []uint64
	for _, r := range recs {
		if r.file == file && r.typ == segment.TypeEvent {
			gs = append(gs, r.global)
		}
	}
	return gs
}

var damageCases = []damageCase{
	{name: "undamaged", checkpoint: true,
		damage: func(*testing.T, *source, []loc) []uint64 { return nil },
		check: func(t *testing.T, _ *source, rep *salvage.Report) {
			assert.True(t, rep.Clean())
			assert.False(t, rep.LostSomething())
		}},
	{name: "bit flip in a sealed event frame", checkpoint: false,
		damage: func(t *testing.T, src *source, recs []loc) []uint64 {
			g := src.single(t, recs, 0)
			r := find(t, recs, segment.TypeEvent, g)
			flipByte(t, r.file, r.off+r.size/2)
			return []uint64{g}
		},
		check: func(t *testing.T, src *source, rep *salvage.Report) {
			require.Len(t, rep.Damage, 1)
			assert.Equal(t, "exact: the segment's footer lists them", rep.Damage[0].Precision)
			ev := src.events[rep.Damage[0].Globals[0]-1]
			assert.Equal(t, []string{ev.Coordinate.Entity()}, rep.Damage[0].Entities)
			require.Len(t, rep.Gaps, 1)
			assert.Equal(t, salvage.Gap{Entity: ev.Coordinate.Entity(), From: ev.Sequence, To: ev.Sequence,
				After: rep.Gaps[0].After, Before: rep.Gaps[0].Before}, rep.Gaps[0])
		}},
	{name: "bit flip in a frame's length", checkpoint: true,
		damage: func(t *testing.T, src *source, recs []loc) []uint64 {
			g := src.single(t, recs, 1)
			r := find(t, recs, segment.TypeEvent, g)
			flipByte(t, r.file, r.off+1)
			return []uint64{g}
		}},
	{name: "bit flip in a batch event", checkpoint: true,
		damage: func(t *testing.T, src *source, recs []loc) []uint64 {
			b := src.aBatch(t, recs, true)
			r := find(t, recs, segment.TypeEvent, b[1])
			flipByte(t, r.file, r.off+100)
			return b
		},
		check: func(t *testing.T, _ *source, rep *salvage.Report) {
			require.Len(t, rep.Dropped, 2, "the batch's intact events")
			assert.Contains(t, rep.Dropped[0].Reason, "not whole")
		}},
	{name: "bit flip in a BEGIN marker", checkpoint: true,
		damage: func(t *testing.T, src *source, recs []loc) []uint64 {
			b := src.aBatch(t, recs, true)
			r := find(t, recs, segment.TypeBatchBegin, b[0])
			flipByte(t, r.file, r.off+r.size-1)
			return nil
		},
		check: func(t *testing.T, _ *source, rep *salvage.Report) {
			require.Len(t, rep.Damage, 1)
			assert.Equal(t, 0, rep.Damage[0].Events)
			assert.False(t, rep.LostSomething())
			assert.Contains(t, strings.Join(rep.Notes, "\n"), "BEGIN marker damaged, rebuilt")
		}},
	{name: "bit flip in a COMMIT marker", checkpoint: false,
		damage: func(t *testing.T, src *source, recs []loc) []uint64 {
			b := src.aBatch(t, recs, true)
			r := find(t, recs, segment.TypeBatchCommit, b[0])
			flipByte(t, r.file, r.off+4)
			return nil
		},
		check: func(t *testing.T, _ *source, rep *salvage.Report) {
			assert.Contains(t, strings.Join(rep.Notes, "\n"), "COMMIT marker damaged, rebuilt")
			assert.False(t, rep.LostSomething())
		}},
	{name: "bit flip in a segment header", checkpoint: true,
		damage: func(t *testing.T, src *source, _ []loc) []uint64 {
			flipByte(t, segmentNames(t, src.dir)[1], 20)
			return nil
		},
		check: func(t *testing.T, _ *source, rep *salvage.Report) {
			require.Len(t, rep.Damage, 1)
			assert.Equal(t, salvage.WhatHeader, rep.Damage[0].What)
			assert.False(t, rep.LostSomething())
		}},
	{name: "sealed segment cut in half", checkpoint: true,
		damage: func(t *testing.T, src *source, recs []loc) []uint64 {
			name := segmentNames(t, src.dir)[0]
			fi, err := os.Stat(name)
			require.NoError(t, err)
			cut := fi.Size() / 2
			require.NoError(t, os.Truncate(name, cut))
			var lost []uint64
			for _, r := range recs {
				if r.file == name && r.typ == segment.TypeEvent && r.off+r.size > cut {
					lost = append(lost, src.batchOf(r.global)...)
				}
			}
			return dedupe(lost)
		},
		check: func(t *testing.T, _ *source, rep *salvage.Report) {
			assert.Equal(t, "exact: the checkpoint lists them", rep.Damage[0].Precision)
		}},
	{name: "sealed segment cut in half, no checkpoint", checkpoint: false,
		damage: func(t *testing.T, src *source, recs []loc) []uint64 {
			name := segmentNames(t, src.dir)[0]
			fi, err := os.Stat(name)
			require.NoError(t, err)
			cut := fi.Size() / 2
			require.NoError(t, os.Truncate(name, cut))
			var lost []uint64
			for _, r := range recs {
				if r.file == name && r.typ == segment.TypeEvent && r.off+r.size > cut {
					lost = append(lost, src.batchOf(r.global)...)
				}
			}
			return dedupe(lost)
		}},
	{name: "lost middle segment", checkpoint: true,
		damage: func(t *testing.T, src *source, recs []loc) []uint64 {
			name := segmentNames(t, src.dir)[1]
			require.NoError(t, os.Remove(name))
			return eventsOfSegment(t, recs, name)
		},
		check: func(t *testing.T, _ *source, rep *salvage.Report) {
			require.Len(t, rep.Damage, 1)
			assert.Equal(t, salvage.WhatMissingSegment, rep.Damage[0].What)
			assert.Equal(t, "exact: the checkpoint lists them", rep.Damage[0].Precision)
		}},
	{name: "lost middle segment, no checkpoint", checkpoint: false,
		damage: func(t *testing.T, src *source, recs []loc) []uint64 {
			name := segmentNames(t, src.dir)[1]
			require.NoError(t, os.Remove(name))
			return eventsOfSegment(t, recs, name)
		}},
	{name: "garbage tail", checkpoint: true,
		damage: func(t *testing.T, src *source, _ []loc) []uint64 {
			names := segmentNames(t, src.dir)
			patch(t, names[len(names)-1], func(b []byte) []byte { return append(b, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02) })
			return nil
		},
		check: func(t *testing.T, _ *source, rep *salvage.Report) {
			require.Len(t, rep.Damage, 1)
			assert.True(t, rep.Damage[0].Torn)
			assert.Equal(t, 0, rep.Damage[0].Events, rep.Damage[0].Precision)
			assert.False(t, rep.LostSomething())
		}},
	{name: "broken checkpoint", checkpoint: true,
		damage: func(t *testing.T, src *source, _ []loc) []uint64 {
			flipByte(t, filepath.Join(src.dir, "CHECKPOINT"), 100)
			return nil
		},
		check: func(t *testing.T, _ *source, rep *salvage.Report) {
			assert.True(t, rep.Clean())
			assert.Contains(t, rep.Checkpoint, "damaged, not used")
		}},
	{name: "stale frame copied over a later one", checkpoint: false,
		damage: func(t *testing.T, src *source, recs []loc) []uint64 {
			victim := find(t, recs, segment.TypeEvent, src.single(t, recs, 1))
			old := find(t, recs, segment.TypeEvent, 2)
			require.Equal(t, old.size, victim.size)
			b, err := os.ReadFile(old.file)
			require.NoError(t, err)
			frame := b[old.off : old.off+old.size]
			patch(t, victim.file, func(d []byte) []byte { copy(d[victim.off:], frame); return d })
			return []uint64{victim.global}
		},
		check: func(t *testing.T, _ *source, rep *salvage.Report) {
			require.Len(t, rep.Damage, 1)
			assert.Equal(t, salvage.WhatStale, rep.Damage[0].What)
		}},
	{name: "later frame misdirected over an earlier one", checkpoint: true,
		damage: func(t *testing.T, src *source, recs []loc) []uint64 {
			victim := find(t, recs, segment.TypeEvent, src.single(t, recs, 0))
			var later loc
			for _, r := range recs {
				if r.file == victim.file && r.typ == segment.TypeEvent && r.global > victim.global+3 && len(src.batchOf(r.global)) == 1 {
					later = r
				}
			}
			b, err := os.ReadFile(later.file)
			require.NoError(t, err)
			frame := slices.Clone(b[later.off : later.off+later.size])
			patch(t, victim.file, func(d []byte) []byte { copy(d[victim.off:], frame); return d })
			return []uint64{victim.global}
		}},
	{name: "altered event with a valid checksum", checkpoint: false,
		damage: func(t *testing.T, src *source, recs []loc) []uint64 {
			g := src.single(t, recs, 0)
			r := find(t, recs, segment.TypeEvent, g)
			patch(t, r.file, func(b []byte) []byte {
				b[r.off+r.size-5] ^= 0x01 // inside the payload's padding
				body := b[r.off+segment.FrameHeaderSize : r.off+r.size]
				binary.LittleEndian.PutUint32(b[r.off+4:], crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
				return b
			})
			return []uint64{g}
		},
		check: func(t *testing.T, _ *source, rep *salvage.Report) {
			require.Empty(t, rep.Damage)
			require.Len(t, rep.Dropped, 1)
			assert.Contains(t, rep.Dropped[0].Reason, "does not hash over its predecessor")
		}},
	{name: "segment cut inside a batch", checkpoint: true,
		damage: func(t *testing.T, src *source, recs []loc) []uint64 {
			b := src.aBatch(t, recs, false)
			r := find(t, recs, segment.TypeEvent, b[1])
			require.NoError(t, os.Truncate(r.file, r.off+r.size/2))
			var lost []uint64
			for _, g := range eventsOfSegment(t, recs, r.file) {
				if g >= b[0] {
					lost = append(lost, g)
				}
			}
			return lost
		},
		check: func(t *testing.T, _ *source, rep *salvage.Report) {
			require.Len(t, rep.Damage, 1)
			assert.False(t, rep.Damage[0].Torn, "the cut lies before the sync note: acknowledged bytes")
			require.Len(t, rep.Dropped, 1, "the batch's first event, intact")
		}},
	{name: "later frame misdirected over a sealed segment's last event", checkpoint: false,
		damage: func(t *testing.T, src *source, recs []loc) []uint64 {
			names := segmentNames(t, src.dir)
			var victim, later loc
			for _, r := range recs {
				if r.typ == segment.TypeEvent && r.file == names[0] {
					victim = r // the last event of the first segment
				}
				if r.typ == segment.TypeEvent && r.file == names[2] && later.file == "" && len(src.batchOf(r.global)) == 1 {
					later = r
				}
			}
			require.Equal(t, 1, len(src.batchOf(victim.global)), "a single event")
			b, err := os.ReadFile(later.file)
			require.NoError(t, err)
			frame := slices.Clone(b[later.off : later.off+later.size])
			patch(t, victim.file, func(d []byte) []byte { copy(d[victim.off:], frame); return d })
			return []uint64{victim.global}
		},
		check: func(t *testing.T, _ *source, rep *salvage.Report) {
			require.Len(t, rep.Damage, 1)
			assert.Equal(t, salvage.WhatStale, rep.Damage[0].What)
			assert.Equal(t, "exact: the segment's footer lists them", rep.Damage[0].Precision)
		}},
	{name: "every frame destroyed", checkpoint: true,
		damage: func(t *testing.T, src *source, _ []loc) []uint64 {
			for _, name := range segmentNames(t, src.dir) {
				patch(t, name, func(b []byte) []byte {
					for i := segment.HeaderSize; i < len(b); i++ {
						b[i] = 0xaa
					}
					return b
				})
			}
			var all []uint64
			for _, ev := range src.events {
				all = append(all, ev.Global)
			}
			return all
		},
		check: func(t *testing.T, src *source, rep *salvage.Report) {
			assert.Zero(t, rep.EventsKept)
			assert.Equal(t, uint64(len(src.events)), rep.LastGlobal, "numbering goes on above the lost events")
		}},
	{name: "bit flip in the last segment", checkpoint: true,
		damage: func(t *testing.T, src *source, recs []loc) []uint64 {
			g := src.single(t, recs, len(segmentNames(t, src.dir))-1)
			r := find(t, recs, segment.TypeEvent, g)
			flipByte(t, r.file, r.off+200)
			return []uint64{g}
		},
		check: func(t *testing.T, _ *source, rep *salvage.Report) {
			require.Len(t, rep.Damage, 1)
			assert.False(t, rep.Damage[0].Torn, "synced bytes")
			assert.Equal(t, "exact: the checkpoint lists them", rep.Damage[0].Precision)
		}},
}

func dedupe(gs []uint64) []uint64 {
	slices.Sort(gs)
	return slices.Compact(gs)
}

// TestSalvageKeepsEveryIntactEventAndReportsTheRest damages a store in
// each way the reliability suite knows, salvages it, and requires the new
// store to hold exactly the events the damage spared — each one identical
// to the original — the report to name exactly the events lost, the
// source to be unchanged, and the new store to verify, open and go on.
func TestSalvageKeepsEveryIntactEventAndReportsTheRest(t *testing.T) {
	sources := map[bool]*source{true: writeSource(t, true), false: writeSource(t, false)}
	for _, tc := range damageCases {
		t.Run(tc.name, func(t *testing.T) {
			src := sources[tc.checkpoint].copy(t)
			lost := tc.damage(t, src, records(t, src.dir))
			before := snapshotFiles(t, src.dir)
			dst := filepath.Join(t.TempDir(), "rescued")

			rep, err := salvage.Run(bg, src.dir, dst, salvage.Options{})
			require.NoError(t, err)
			require.Equal(t, before, snapshotFiles(t, src.dir), "the source was written to")

			// Exactly the spared events, each the original.
			var want []*batpak.StoredEvent
			for _, ev := range src.events {
				if !slices.Contains(lost, ev.Global) {
					want = append(want, ev)
				}
			}
			got := readAll(t, dst)
			require.Len(t, got, len(want))
			for i := range want {
				sameEvent(t, want[i], got[i])
			}
			require.Equal(t, len(want), rep.EventsKept)

			// The report names exactly the events lost.
			named := map[uint64]bool{}
			exact := true
			for _, d := range rep.Damage {
				for _, g := range d.Globals {
					named[g] = true
				}
				if !strings.HasPrefix(d.Precision, "exact") && !strings.HasPrefix(d.Precision, "at most") {
					exact = false
				}
			}
			for _, d := range rep.Dropped {
				require.False(t, named[d.Global], "global %d both damaged and dropped", d.Global)
				named[d.Global] = true
			}
			if tc.checkpoint || !hasInexact(rep) {
				require.Equal(t, lost, slices.Sorted(maps.Keys(named)), "events named lost")
				require.Equal(t, len(lost), rep.Lost.Exact)
			} else {
				// Without a listing, the bound from the global sequences
				// around the damage is tight here (numbering has no jumps).
				require.True(t, exact)
				require.Equal(t, len(lost), rep.Lost.Exact+rep.Lost.AtMost)
			}
			require.Equal(t, len(lost) > 0, rep.LostSomething())
			entities := map[string]bool{}
			for _, g := range lost {
				entities[src.events[g-1].Coordinate.Entity()] = true
			}
			if tc.checkpoint || !hasInexact(rep) {
				require.Equal(t, slices.Sorted(maps.Keys(entities)), nilIfEmpty(rep.Entities))
			}
			if tc.check != nil {
				tc.check(t, src, rep)
			}
			var text strings.Builder
			require.NoError(t, rep.WriteText(&text))
			t.Log(text.String())

			checkGoesOn(t, dst, got, rep)
		})
	}
}

func hasInexact(rep *salvage.Report) bool {
	for _, d := range rep.Damage {
		if !strings.HasPrefix(d.Precision, "exact") {
			return true
		}
	}
	return false
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// checkGoesOn opens the rescued store for writing: every entity continues
// after its last kept sequence, numbering continues above the source's,
// and the store verifies and reopens.
func checkGoesOn(t *testing.T, dst string, kept []*batpak.StoredEvent, rep *salvage.Report) {
	t.Helper()
	s, err := batpak.Open(dst, batpak.WithDurability(batpak.OnWrite))
	require.NoError(t, err)
	lastSeq := map[string]uint64{}
	for _, ev := range kept {
		lastSeq[ev.Coordinate.Entity()] = ev.Sequence
	}
	for e, seq := range lastSeq {
		r, err := s.Append(bg, event.MustCoordinate(e, "room:1"), kindMoved, pl(999))
		require.NoError(t, err)
		require.Equal(t, seq+1, r.Sequence, "entity %s", e)
		require.Greater(t, r.Global, rep.LastGlobal)
	}
	vr, err := s.Verify(bg)
	require.NoError(t, err)
	require.True(t, vr.OK(), "%v", vr.Problem)
	require.NoError(t, s.Close())
	require.Len(t, readAll(t, dst), len(kept)+len(lastSeq))
	_ = fmt.Sprint
}

// TestSalvageSweepOfBitFlips flips one byte at a time across the first
// segment (header, frames, markers and footer) of a store with its
// checkpoint, and requires of every salvage: no error (the new store
// verifies), every kept event identical to the original, and every other
// event named lost, exactly.
func TestSalvageSweepOfBitFlips(t *testing.T) {
	src := writeSource(t, true)
	first := segmentNames(t, src.dir)[0]
	orig, err := os.ReadFile(first)
	require.NoError(t, err)
	byID := map[batpak.ID]*batpak.StoredEvent{}
	for _, ev := range src.events {
		byID[ev.ID] = ev
	}
	step := len(orig) / 40
	tried := 0
	for off := 3; off < len(orig); off += step {
		tried++
		flipped := slices.Clone(orig)
		flipped[off] ^= 0x10
		require.NoError(t, os.WriteFile(first, flipped, 0o644))
		dst := filepath.Join(t.TempDir(), "out")
		var kept []*batpak.StoredEvent
		wrep, err := salvage.Walk(bg, src.dir, salvage.Options{}, func(ev *batpak.StoredEvent) error {
			kept = append(kept, ev)
			return nil
		})
		require.NoError(t, err, "offset %d", off)
		rep, err := salvage.Run(bg, src.dir, dst, salvage.Options{})
		require.NoError(t, err, "offset %d", off)
		require.Equal(t, wrep.Lost, rep.Lost, "Walk and Run agree")
		got := readAll(t, dst)
		require.Len(t, got, len(kept), "offset %d", off)
		named := map[uint64]bool{}
		for _, d := range rep.Damage {
			require.True(t, strings.HasPrefix(d.Precision, "exact"), "offset %d: %s", off, d.Precision)
			for _, g := range d.Globals {
				named[g] = true
			}
		}
		for _, d := range rep.Dropped {
			named[d.Global] = true
		}
		for i, ev := range got {
			sameEvent(t, byID[ev.ID], ev)
			sameEvent(t, kept[i], ev)
			require.False(t, named[ev.Global], "offset %d: global %d kept and named lost", off, ev.Global)
		}
		require.Equal(t, len(src.events), len(got)+len(named), "offset %d: every event kept or named lost", off)
	}
	require.NoError(t, os.WriteFile(first, orig, 0o644))
	t.Logf("%d single-byte flips salvaged", tried)
}
