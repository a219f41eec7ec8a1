package reader

import (
	"errors"
	"io"

	"github.com/batpak-go/batpak/index"
)

// The read path's one set of read sizes: queries, cursors and projections
// all read through a RunReader, which takes index entries a part at a time
// and reads the frames of a part out of the mappings, or a run at a time,
// with these bounds. They were chosen by measuring the three callers on
// W5, W6 and W8's stores, mapped and not, with spans of 64 KiB to 1 MiB
// and gaps of 4 and 16 KiB: 256 KiB and 4 KiB were at or below the
// readers they replaced on every figure (docs/TUNING.md has the table).
const (
	// RunSpan bounds the frame bytes of one part (the frames a RunReader
	// reads before decoding them, whose events' payloads then share one
	// allocation) and the bytes of one read. A larger frame is a part of
	// its own.
	RunSpan = 256 << 10
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

// readPart reads the frames of part (size bytes of them) into r.buf, one
// after another in entry order, and appends to r.dropped the positions in
// part of the entries whose events compaction dropped since they were
// taken (their places in the buffer are left as they were). Frames a
// mapping covers are copied out of it, as many as it covers under one read
// lock. The others are read a run at a time with one ReadAt each (which
// reopens an evicted segment and remaps a grown one), and then the copying
// goes on.
func (r *RunReader) readPart(part []index.Entry, size int) error {
	r.dropped, r.buf = r.dropped[:0], r.buf[:0]
	r.room(size)
	left := size // frame bytes not yet in the buffer
	for i := 0; i < len(part); {
		var n int
		n, r.buf = r.segs.copyMapped(part[i:], r.buf)
		for _, e := range part[i : i+n] {
			left -= int(e.Size)
		}
		if i += n; i == len(part) {
			break
		}
		n, end := r.lim.nextRun(part[i:])
		if err := r.readRun(part[i:i+n], i, end, left); err != nil {
			return err
		}
		for _, e := range part[i : i+n] {
			left -= int(e.Size)
		}
		i += n
	}
	return nil
}

// readRun reads a run of frames — from its first frame's offset to end of
// its segment — with one ReadAt straight into the buffer, then slides the
// frames down over the gaps between them (frames back to back do not
// move), so the buffer holds at most a run's gaps more than the part's
// frames. lo is the run's position in its part, left the frame bytes of
// the part not yet read (the run's included). For a segment compaction
// retired, or one that ends before the run does (damage the index points
// into), each frame is read on its own instead (readEntry), which finds
// where compaction moved it or says where the segment was cut.
func (r *RunReader) readRun(run []index.Entry, lo int, end int64, left int) error {
	start := int64(run[0].Offset)
	span := int(end - start)
	at := len(r.buf)
	r.room(max(span, left)) // the part's later frames must fit too
	buf := r.buf[at : at+span]
	err := r.segs.ReadAt(uint64(run[0].Segment), buf, start)
	if err == nil {
		w := 0
		for _, e := range run {
			if from := int(int64(e.Offset) - start); from != w {
				copy(buf[w:], buf[from:from+int(e.Size)])
			}
			w += int(e.Size)
		}
		r.buf = r.buf[:at+w]
		return nil
	}
	if !errors.Is(err, ErrSegmentRetired) && !errors.Is(err, io.EOF) {
		return err
	}
	for i, e := range run {
		at := len(r.buf)
		r.buf = r.buf[:at+int(e.Size)]
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

// copyMapped appends to buf, which has room for them, the frames of a
// prefix of es copied out of the segments' mappings under one read lock.
// It stops at the first frame no mapping covers (its segment evicted,
// retired, or grown past its mapping) and returns how many frames it
// copied. Frames that lie back to back are copied together.
func (s *Segments) copyMapped(es []index.Entry, buf []byte) (int, []byte) {
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
		for n++; n < len(es) && es[n].Segment == seg && int64(es[n].Offset) == to && to+int64(es[n].Size) <= int64(len(m)); n++ {
			to += int64(es[n].Size)
		}
		buf = append(buf, m[from:to]...)
	}
	return n, buf
}
