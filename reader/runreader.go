package reader

import (
	"sync"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
)

// RunReader is the read path's one frame-run decoder: queries, cursors and
// projections read the events of index entries through it. It takes the
// entries a part at a time (at most RunSpan bytes of frames) into a buffer
// it reuses: copied out of the mappings under one lock, or read a run at a
// time (frames of one segment at most RunGap apart) with one call each.
// It checks every frame (its CRC, and that it holds its entry's event:
// global sequence, entity sequence and kind) and decodes it with the
// coordinate from a snapshot of the index's interned names, where each
// entity's coordinate was built once.
//
// Entries taken before a compaction may name segments it retired: their
// frames are read where compaction moved them, and the events it dropped
// are reported to the caller, who decides (a query skips them, a cursor
// takes fresh entries).
//
// A RunReader is used by one goroutine at a time: take one with Runs for
// a read and Release it afterwards.
type RunReader struct {
	segs    *Segments
	x       *index.Index
	lim     runLimits
	buf     []byte            // the frames of the part being decoded, one after another
	dropped []int             // positions in the part of events compaction dropped
	ev      event.StoredEvent // the event Each hands out, reused
}

var runReaders = sync.Pool{New: func() any { return new(RunReader) }}

// Runs returns a RunReader over s, resolving coordinates through x.
func (s *Segments) Runs(x *index.Index) *RunReader {
	r := runReaders.Get().(*RunReader)
	r.segs, r.x, r.lim = s, x, defaultLimits
	return r
}

// Release returns r for reuse; r must not be used afterwards. A buffer
// grown past its bound (for one large frame) is not kept.
func (r *RunReader) Release() {
	if cap(r.buf) > 2*int(r.lim.span) {
		r.buf = nil
	}
	r.segs, r.x, r.dropped = nil, nil, r.dropped[:0]
	r.ev = event.StoredEvent{}
	runReaders.Put(r)
}

// Each reads the events of es (entries of the index, in global order) and
// calls fn with each in turn. The event is reused from call to call and
// its payload lies in the reader's buffer: both are valid only during the
// call, so reading allocates nothing per event. Events compaction dropped
// since es were taken are skipped, as a read begun after it would. An
// error of fn stops the read and is returned as it is; damage is a
// *event.CorruptionError naming the segment and offset.
func (r *RunReader) Each(es []index.Entry, fn func(*event.StoredEvent) error) error {
	names := r.x.Names() // taken after es: it resolves them all
	for len(es) > 0 {
		part, err := r.read(es)
		if err != nil {
			return err
		}
		buf, dropped, at := r.buf, r.dropped, 0
		for i := range part {
			e := &part[i]
			frame := buf[at : at+int(e.Size) : at+int(e.Size)]
			at += int(e.Size)
			if len(dropped) > 0 && dropped[0] == i {
				dropped = dropped[1:]
				continue
			}
			if err := decode(frame, e, &r.ev, &names, r.segs.opener); err != nil {
				return err
			}
			if err := fn(&r.ev); err != nil {
				return err
			}
		}
		es = es[len(part):]
	}
	return nil
}

// Fill reads the events of es (entries of the index, in global order)
// into dst (at least as long), setting dst[i] to the event of es[i], or
// to nil if compaction dropped it since es were taken. The events are the
// caller's to keep: those of one part (see RunSpan) share one allocation
// and their payloads another, so keeping one keeps its part's alive, and
// never more than about a span of payloads. It returns how many entries
// it read before an error, and that error; damage is a
// *event.CorruptionError naming the segment and offset.
func (r *RunReader) Fill(es []index.Entry, dst []*event.StoredEvent) (int, error) {
	names := r.x.Names() // taken after es: it resolves them all
	done := 0
	for done < len(es) {
		part, err := r.read(es[done:])
		if err != nil {
			return done, err
		}
		n, err := r.fillPart(part, dst[done:done+len(part)], &names)
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// fillPart decodes the part just read into dst, in one allocation of
// events, and moves their payloads, which alias the reused buffer, into
// one allocation of their own. It returns how many entries it decoded
// before an error.
func (r *RunReader) fillPart(part []index.Entry, dst []*event.StoredEvent, names *index.Names) (int, error) {
	evs := make([]event.StoredEvent, len(part))
	buf, dropped, at, payloads := r.buf, r.dropped, 0, 0
	n := 0
	var err error
	for ; n < len(part); n++ {
		e := &part[n]
		frame := buf[at : at+int(e.Size) : at+int(e.Size)]
		at += int(e.Size)
		if len(dropped) > 0 && dropped[0] == n {
			dropped, dst[n] = dropped[1:], nil
			continue
		}
		if err = decode(frame, e, &evs[n], names, r.segs.opener); err != nil {
			break
		}
		dst[n] = &evs[n]
		payloads += len(evs[n].Payload)
	}
	kept := make([]byte, payloads)
	for i := range evs[:n] {
		ev := &evs[i]
		m := copy(kept, ev.Payload) // nothing for a dropped event's zero payload
		ev.Payload, kept = kept[:m:m], kept[m:]
	}
	return n, err
}

// read reads the part of es that begins with es[0] (see readPart) and
// returns its entries.
func (r *RunReader) read(es []index.Entry) ([]index.Entry, error) {
	n, size := r.lim.nextPart(es)
	return es[:n], r.readPart(es[:n], size)
}
