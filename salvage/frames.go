package salvage

import (
	"encoding/binary"
	"fmt"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/segment"
)

// rec is one intact record of a segment: a frame whose checksum matches
// and whose body parses.
type rec struct {
	typ  byte
	off  int64
	size int
	// Events only.
	id       event.ID
	global   uint64
	seq      uint64
	entity   string
	hasHash  bool
	hash     [32]byte
	tomb     bool                     // a tombstone or stripped event as compaction writes it (segment.IsTombstone, IsStripped)
	marker   segment.Marker           // BEGIN and COMMIT only
	compact  *segment.CompactedRecord // a compaction record only
	rejected bool                     // an event out of the log's order: stale or misdirected
}

// region is a run of bytes that held no intact record.
type region struct {
	from, to int64
	what     string
	cause    string
}

// frames is what reading one segment's bytes found.
type frames struct {
	recs    []rec
	bad     []region
	end     int64 // where the records end: an all-zero tail or a footer starts here (else the file's end)
	footer  bool  // the segment ends in an intact footer
	workOut bool  // the resynchronisation budget ran out: the rest of the file was not searched
}

// resyncBudget bounds the bytes checksummed while looking for the next
// intact frame after damage, per segment: past it, the rest of the
// segment is reported as unreadable rather than searched further.
const resyncBudget = 1 << 30

// readFrames walks a segment's records from its header on. After a record
// that does not read back (short, bad length, bad checksum, malformed), it
// searches forward, byte by byte, for the next offset where an intact
// record begins, and reports the bytes between as a damaged region. An
// all-zero tail (space the writer preallocated and never reached) ends
// the records without being damage; so does a footer.
func readFrames(data []byte) frames {
	f := frames{end: int64(len(data))}
	budget := int64(resyncBudget)
	var v segment.EventView
	off := int64(segment.HeaderSize)
	for off < int64(len(data)) {
		r, err := readRecord(data, off, &v)
		if err == nil {
			if r.typ == segment.TypeFooter {
				f.footer, f.end = true, off
				return f
			}
			f.recs = append(f.recs, r)
			off += int64(r.size)
			continue
		}
		if allZero(data[off:]) {
			f.end = off
			return f
		}
		next := resync(data, off+1, &budget, &v)
		if budget < 0 {
			f.workOut = true
		}
		f.bad = append(f.bad, region{from: off, to: next, what: WhatUnreadable, cause: causeText(err)})
		off = next
	}
	return f
}

// readRecord reads and parses the record at off.
func readRecord(data []byte, off int64, v *segment.EventView) (rec, error) {
	body, size, err := segment.ReadFrame(data[off:])
	if err != nil {
		return rec{}, err
	}
	r := rec{typ: body[0], off: off, size: size}
	switch body[0] {
	case segment.TypeEvent:
		if err := segment.ParseEvent(body, v); err != nil {
			return rec{}, err
		}
		r.id, r.global, r.seq, r.entity = v.ID, v.Global, v.Sequence, string(v.Entity)
		r.hasHash, r.hash, r.tomb = v.HasHash, v.Hash, segment.IsTombstone(v) || segment.IsStripped(v)
	case segment.TypeBatchBegin, segment.TypeBatchCommit:
		if r.marker, err = segment.ParseMarker(body); err != nil {
			return rec{}, err
		}
	case segment.TypeCompacted:
		c, err := segment.ParseCompacted(body)
		if err != nil {
			return rec{}, err
		}
		if off != segment.HeaderSize {
			return rec{}, fmt.Errorf("%w: compaction record at offset %d, not first in its segment", segment.ErrBadRecord, off)
		}
		r.compact = &c
	case segment.TypeFooter:
		// A footer must end the file and walk cleanly; its entries are
		// read later (see known.go).
		at, err := segment.WalkFooter(data, func(*segment.FooterEntry) error { return nil })
		if err != nil || at != off {
			return rec{}, fmt.Errorf("%w: a footer frame that is not the segment's intact footer", segment.ErrBadRecord)
		}
	default:
		return rec{}, fmt.Errorf("%w: unknown record type %d", segment.ErrBadRecord, body[0])
	}
	return r, nil
}

// resync returns the first offset at or after from where an intact record
// begins, or the end of data. Each candidate costs a checksum of the
// length it announces, charged to budget; once that is spent the search
// gives up and returns the end.
func resync(data []byte, from int64, budget *int64, v *segment.EventView) int64 {
	n := int64(len(data))
	for p := from; p+segment.FrameHeaderSize < n; p++ {
		l := int64(binary.LittleEndian.Uint32(data[p:]))
		if l == 0 || l > segment.MaxBody || p+segment.FrameHeaderSize+l > n {
			continue
		}
		if *budget -= l; *budget < 0 {
			return n
		}
		if _, err := readRecord(data, p, v); err == nil {
			return p
		}
	}
	return n
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// causeText is an error's text without the segment package's prefix.
func causeText(err error) string {
	s := err.Error()
	for _, p := range []string{"segment: bad record: ", "segment: "} {
		if len(s) > len(p) && s[:len(p)] == p {
			return s[len(p):]
		}
	}
	return s
}

// rejectOutOfOrder marks the events that break the log's order: global
// sequences must increase along the file and lie above floor (the last
// one of the segments before) and, in a compacted segment, inside its
// range. Of the events in range it keeps the longest increasing run
// (a longest increasing subsequence), so one stale copy of an older frame
// or a misdirected copy of a later one is rejected, not the events around
// it. next, if not 0, is where the next segment's events start (see
// headGlobal): a copy of a later frame at the end of this segment would
// otherwise extend the run, and then the floor of every later segment.
// It is trusted only above the middle of this segment's run.
func rejectOutOfOrder(recs []rec, floor, next uint64, c *segment.CompactedRecord) {
	var idx []int // events in range, in file order
	for i := range recs {
		r := &recs[i]
		if r.typ != segment.TypeEvent {
			continue
		}
		if r.global <= floor || (c != nil && (r.global < c.FirstGlobal || r.global > c.LastGlobal)) {
			r.rejected = true
			continue
		}
		idx = append(idx, i)
	}
	// Patience sorting: tails[k] is the index (into idx) of the smallest
	// last global of an increasing run of length k+1; prev links runs.
	tails := make([]int, 0, len(idx))
	prev := make([]int, len(idx))
	for j, i := range idx {
		g := recs[i].global
		lo, hi := 0, len(tails)
		for lo < hi {
			m := (lo + hi) / 2
			if recs[idx[tails[m]]].global < g {
				lo = m + 1
			} else {
				hi = m
			}
		}
		prev[j] = -1
		if lo > 0 {
			prev[j] = tails[lo-1]
		}
		if lo == len(tails) {
			tails = append(tails, j)
		} else {
			tails[lo] = j
		}
	}
	keep := make([]bool, len(idx))
	if len(tails) > 0 {
		for j := tails[len(tails)-1]; j >= 0; j = prev[j] {
			keep[j] = true
		}
	}
	var run []uint64
	for j, i := range idx {
		if keep[j] {
			run = append(run, recs[i].global)
		}
	}
	if next > 0 && len(run) > 0 && next > run[len(run)/2] {
		for j, i := range idx {
			keep[j] = keep[j] && recs[i].global < next
		}
	}
	for j, i := range idx {
		if !keep[j] {
			recs[i].rejected = true
		}
	}
}
