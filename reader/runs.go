package reader

import (
	"errors"
	"io"

	"github.com/batpak-go/batpak/index"
)

// The read path's one set of read sizes: queries, cursors and projections
// all read through a RunReader, which reads index entries a part at a time
// and the frames of a part a run at a time, with these bounds. They were
// chosen by measuring W5, W6 and W8 (BENCH.md) with several candidates;
// the table is in doc.go.
const (
	// RunSpan bounds the frame bytes of one part (the frames a RunReader
	// reads before decoding them, which its events' payloads then share)
	// and the bytes of one read. A larger frame is a part of its own.
	RunSpan = 64 << 10
	// RunGap is the most bytes between two frames of one segment (batch
	// markers, events of other regions) still read through with one call
	// rather than another. It matters only where a read is a system call
	// (a segment not mapped); copies out of a mapping take each frame and
	// skip what lies between.
	RunGap = 4 << 10
)

// runLimits are a RunReader's bounds: RunSpan and RunGap, smaller in tests.
type runLimits struct {
	span, gap int64
}

var defaultLimits = runLimits{span: RunSpan, gap: RunGap}

// nextPart returns how many entries of es, from the first, make up the
// next part, and the bytes of their frames: frames adding up to at most
// the span, the first one whatever its size.
func (l runLimits) nextPart(es []index.Entry) (n, size int) {
	for n < len(es) && (n == 0 || int64(size)+int64(es[n].Size) <= l.span) {
		size += int(es[n].Size)
		n++
	}
	return n, size
}

// nextRun returns how many entries of es, from the first, make up a run
// read with one call: frames of one segment, in file order, each no more
// than the gap after the one before, within the span from the first
// frame's start (the first frame whatever its size); and the run's end.
func (l runLimits) nextRun(es []index.Entry) (n int, end int64) {
	first := &es[0]
	start := int64(first.Offset)
	end = start + int64(first.Size)
	for n = 1; n < len(es); n++ {
		e := &es[n]
		off := int64(e.Offset)
		if e.Segment != first.Segment || off < end || off-end > l.gap || off+int64(e.Size)-start > l.span {
			break
		}
		end = off + int64(e.Size)
	}
	return n, end
}

// readPart reads the frames of part into buf, one after another in entry
// order, and appends to r.dropped the positions in part of the entries
// whose events compaction dropped since they were taken (their places in
// buf are left as they were). Frames a mapping covers are copied out of
// it, as many as it covers under one read lock; the others are read a run
// at a time, with one ReadAt each (which reopens an evicted segment and
// remaps a grown one), and then the copying goes on.
func (r *RunReader) readPart(part []index.Entry, buf []byte) error {
	r.dropped = r.dropped[:0]
	i, at := r.segs.copyMapped(part, buf)
	for i < len(part) {
		n, end := r.lim.nextRun(part[i:])
		run := part[i : i+n]
		if err := r.readRun(run, i, end, buf[at:]); err != nil {
			return err
		}
		for _, e := range run {
			at += int(e.Size)
		}
		i += n
		m, size := r.segs.copyMapped(part[i:], buf[at:])
		i, at = i+m, at+size
	}
	return nil
}

// readRun reads a run of frames (from the run's first offset to end of
// its segment) with one ReadAt into the reader's scratch buffer, and
// copies them one after another into buf. lo is the run's position in its
// part, for reporting dropped events. For a segment compaction retired, or
// one that ends before the run does (damage the index points into), each
// frame is read on its own instead (readEntry), which finds where
// compaction moved it or says where the segment was cut.
func (r *RunReader) readRun(run []index.Entry, lo int, end int64, buf []byte) error {
	start := int64(run[0].Offset)
	if n := int(end - start); cap(r.scratch) < n {
		r.scratch = make([]byte, n)
	}
	scratch := r.scratch[:end-start]
	err := r.segs.ReadAt(uint64(run[0].Segment), scratch, start)
	if err == nil {
		at := 0
		for _, e := range run {
			from := int64(e.Offset) - start
			at += copy(buf[at:at+int(e.Size)], scratch[from:])
		}
		return nil
	}
	if !errors.Is(err, ErrSegmentRetired) && !errors.Is(err, io.EOF) {
		return err
	}
	at := 0
	for i, e := range run {
		err := r.segs.readEntry(e, buf[at:at+int(e.Size)])
		if errors.Is(err, ErrEventDropped) {
			r.dropped = append(r.dropped, lo+i)
		} else if err != nil {
			return err
		}
		at += int(e.Size)
	}
	return nil
}

// copyMapped copies the frames of a prefix of es out of the segments'
// mappings into buf, one after another, under one read lock. It stops at
// the first frame no mapping covers (its segment evicted, retired, or
// grown past its mapping) and returns how many frames it copied and their
// bytes. Frames that lie back to back are copied together.
func (s *Segments) copyMapped(es []index.Entry, buf []byte) (n, size int) {
	if len(es) == 0 {
		return 0, 0
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var m []byte
	seg := ^uint32(0)
	for n < len(es) {
		e := &es[n]
		if e.Segment != seg {
			sf := s.files[uint64(e.Segment)]
			if sf == nil || sf.m == nil {
				return n, size
			}
			s.lru.touch(sf)
			seg, m = e.Segment, sf.m
		}
		from := int64(e.Offset)
		to := from + int64(e.Size)
		if to > int64(len(m)) {
			return n, size
		}
		k := n + 1
		for ; k < len(es) && es[k].Segment == seg && int64(es[k].Offset) == to && to+int64(es[k].Size) <= int64(len(m)); k++ {
			to += int64(es[k].Size)
		}
		size += copy(buf[size:size+int(to-from)], m[from:to])
		n = k
	}
	return n, size
}
