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

// readPart reads the frames of part (size bytes of them) into r.buf and
// records where each lies (r.pos), and appends to r.dropped the positions
// in part of the entries whose events compaction dropped since they were
// taken. Frames a mapping covers are copied out of it one after another,
// as many as it covers under one read lock. The others are read a run at a
// time with one ReadAt each (which reopens an evicted segment and remaps a
// grown one), straight into the buffer with the gaps between their frames
// — unless that would take the buffer past twice the span: then into
// scratch, keeping only the frames — and then the copying goes on.
func (r *RunReader) readPart(part []index.Entry, size int) error {
	r.dropped, r.pos = r.dropped[:0], r.pos[:0]
	r.buf = r.buf[:0]
	r.room(size)
	left := size // frame bytes not yet in the buffer
	for i := 0; i < len(part); {
		var n int
		n, r.buf, r.pos = r.segs.copyMapped(part[i:], r.buf, r.pos)
		for _, e := range part[i : i+n] {
			left -= int(e.Size)
		}
		if i += n; i == len(part) {
			break
		}
		n, end := r.lim.nextRun(part[i:])
		run := part[i : i+n]
		frames := 0
		for _, e := range run {
			frames += int(e.Size)
		}
		if err := r.readRun(run, i, end, frames, left); err != nil {
			return err
		}
		left -= frames
		i += n
	}
	return nil
}

// readRun reads a run of frames, from its first frame's offset to end of
// its segment, with one ReadAt, and records where each frame lies. lo is
// the run's position in its part, frames its frame bytes, left the frame
// bytes of the part not yet read (the run's included). For a segment
// compaction retired, or one that ends before the run does (damage the
// index points into), each frame is read on its own instead (readEntry),
// which finds where compaction moved it or says where the segment was cut.
func (r *RunReader) readRun(run []index.Entry, lo int, end int64, frames, left int) error {
	start := int64(run[0].Offset)
	span := int(end - start)
	seg := uint64(run[0].Segment)
	if len(r.buf)+span+left-frames <= 2*int(r.lim.span) {
		at := len(r.buf)
		r.room(span + left - frames) // the part's later frames must still fit
		r.buf = r.buf[:at+span]
		err := r.segs.ReadAt(seg, r.buf[at:], start)
		if err == nil {
			for _, e := range run {
				r.pos = append(r.pos, at+int(int64(e.Offset)-start))
			}
			return nil
		}
		r.buf = r.buf[:at]
		if !errors.Is(err, ErrSegmentRetired) && !errors.Is(err, io.EOF) {
			return err
		}
		return r.relocateRun(run, lo)
	}
	if cap(r.scratch) < span {
		r.scratch = make([]byte, span)
	}
	scratch := r.scratch[:span]
	err := r.segs.ReadAt(seg, scratch, start)
	if err == nil {
		for _, e := range run {
			from := int64(e.Offset) - start
			r.pos = append(r.pos, len(r.buf))
			r.buf = append(r.buf, scratch[from:from+int64(e.Size)]...)
		}
		return nil
	}
	if !errors.Is(err, ErrSegmentRetired) && !errors.Is(err, io.EOF) {
		return err
	}
	return r.relocateRun(run, lo)
}

// relocateRun reads each frame of a run on its own (see readEntry): where
// compaction moved it, if its segment was retired. The events compaction
// dropped are recorded in r.dropped (lo is the run's position in its
// part); their places in the buffer are left as they were.
func (r *RunReader) relocateRun(run []index.Entry, lo int) error {
	for i, e := range run {
		at := len(r.buf)
		r.pos = append(r.pos, at)
		r.buf = r.buf[:at+int(e.Size)] // room was made for the part's frames
		err := r.segs.readEntry(e, r.buf[at:])
		if errors.Is(err, ErrEventDropped) {
			r.dropped = append(r.dropped, lo+i)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// room makes sure the buffer can take n more bytes without growing, so
// that copies under the segments' lock never allocate. What it holds is
// kept.
func (r *RunReader) room(n int) {
	if need := len(r.buf) + n; need > cap(r.buf) {
		b := make([]byte, len(r.buf), max(need, min(2*cap(r.buf), 2*int(r.lim.span))))
		copy(b, r.buf)
		r.buf = b
	}
}

// copyMapped appends to buf the frames of a prefix of es copied out of the
// segments' mappings, under one read lock, and to pos where each lies in
// buf; buf has room for all of es's frames. It stops at the first frame no
// mapping covers (its segment evicted, retired, or grown past its
// mapping) and returns how many frames it copied. Frames that lie back to
// back are copied together.
func (s *Segments) copyMapped(es []index.Entry, buf []byte, pos []int) (int, []byte, []int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var m []byte
	seg := ^uint32(0)
	n := 0
	for n < len(es) {
		e := &es[n]
		if e.Segment != seg {
			sf := s.files[uint64(e.Segment)]
			if sf == nil || sf.m == nil {
				break
			}
			s.lru.touch(sf)
			seg, m = e.Segment, sf.m
		}
		from := int64(e.Offset)
		to := from + int64(e.Size)
		if to > int64(len(m)) {
			break
		}
		pos = append(pos, len(buf))
		for n++; n < len(es) && es[n].Segment == seg && int64(es[n].Offset) == to && to+int64(es[n].Size) <= int64(len(m)); n++ {
			pos = append(pos, len(buf)+int(to-from))
			to += int64(es[n].Size)
		}
		buf = append(buf, m[from:to]...)
	}
	return n, buf, pos
}
