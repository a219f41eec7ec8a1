package salvage

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// listed is an event as a segment's footer or the checkpoint lists it:
// enough to say which event damaged bytes held.
type listed struct {
	global, seq uint64
	entity      string
	off, size   int64
}

// listing is what one source (a footer, the checkpoint) lists of one
// segment, in offset order, and up to which offset it is complete.
type listing struct {
	from    string // "the segment's footer", "the checkpoint"
	events  []listed
	through int64 // events starting before this offset are all listed
}

// footerListing returns what a segment's intact footer lists, or nil.
func footerListing(data []byte) *listing {
	l := &listing{from: "the segment's footer"}
	at, err := segment.WalkFooter(data, func(e *segment.FooterEntry) error {
		l.events = append(l.events, listed{global: e.Global, seq: e.Sequence, entity: e.Entity,
			off: int64(e.Offset), size: int64(e.Size)})
		return nil
	})
	if err != nil {
		return nil
	}
	l.through = at
	return l
}

// agrees reports whether the listing matches the intact events read from
// the segment: an intact event at a listed offset must be the event
// listed there. (A listing that disagrees is not used: it is not of these
// bytes.)
func (l *listing) agrees(recs []rec) bool {
	for i := range recs {
		r := &recs[i]
		if r.typ != segment.TypeEvent || r.rejected || r.off >= l.through {
			continue
		}
		j, ok := slices.BinarySearchFunc(l.events, r.off, func(e listed, off int64) int { return cmpInt(e.off, off) })
		if !ok || l.events[j].global != r.global || l.events[j].entity != r.entity {
			return false
		}
	}
	return true
}

// within returns the listed events whose frames overlap [from, to), and
// whether the listing covers the range completely.
func (l *listing) within(from, to int64) ([]listed, bool) {
	if l == nil || to > l.through {
		return nil, false
	}
	var out []listed
	for _, e := range l.events {
		if e.off < to && e.off+e.size > from {
			out = append(out, e)
		}
	}
	return out, true
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// checkpoint is what the source's CHECKPOINT lists, by segment file.
type checkpoint struct {
	status     string              // for the report
	bySeg      map[uint64]*listing // nil if the checkpoint is not usable
	watermark  index.Watermark
	lastGlobal uint64
	// whole is set when nothing was written after the checkpoint (see
	// analyse): it then lists the watermark's segment to its end.
	whole bool
}

// loadCheckpoint reads the source's checkpoint, if it has a readable one.
// It is written on a clean close and lists every event up to its
// watermark by segment and offset, so it names what damaged bytes held
// as exactly as a footer — where it still agrees with the log.
func loadCheckpoint(fs vfs.FS, dir string) *checkpoint {
	c := &checkpoint{}
	f, err := fs.Open(filepath.Join(dir, reader.CheckpointFile))
	if vfs.IsNotExist(err) {
		c.status = "none"
		return c
	}
	if err != nil {
		c.status = "unreadable: " + err.Error()
		return c
	}
	defer f.Close()
	b, err := readAll(f)
	if err != nil {
		c.status = "unreadable: " + err.Error()
		return c
	}
	x, wm, err := index.UnmarshalCheckpoint(b)
	if err != nil {
		c.status = fmt.Sprintf("damaged, not used (%v); nothing in it is needed: the new store is indexed by scanning", err)
		return c
	}
	c.watermark, c.lastGlobal = wm, wm.LastGlobal
	c.bySeg = map[uint64]*listing{}
	for e := range x.Query(event.AllEvents(), 0) {
		l := c.bySeg[uint64(e.Segment)]
		if l == nil {
			l = &listing{from: "the checkpoint"}
			c.bySeg[uint64(e.Segment)] = l
		}
		l.events = append(l.events, listed{global: e.Global, seq: e.Sequence, entity: x.EntityName(e.Entity),
			off: int64(e.Offset), size: int64(e.Size)})
	}
	for _, l := range c.bySeg {
		slices.SortFunc(l.events, func(a, b listed) int { return cmpInt(a.off, b.off) })
	}
	c.status = fmt.Sprintf("readable, lists the log up to segment %016x offset %d (global %d)", wm.Segment, wm.Offset, wm.LastGlobal)
	return c
}

// of returns what the checkpoint lists of segment id: nil if it is not
// usable or ends before the segment.
func (c *checkpoint) of(id uint64) *listing {
	if c.bySeg == nil || id > c.watermark.Segment {
		return nil
	}
	l := c.bySeg[id]
	if l == nil {
		l = &listing{from: "the checkpoint", through: endless} // a segment the checkpoint knows empty
	}
	if id == c.watermark.Segment && !c.whole {
		l.through = c.watermark.Offset
	} else {
		l.through = endless
	}
	return l
}

// endless is an offset past the end of any segment.
const endless = int64(1<<63 - 1)

func readAll(f vfs.File) ([]byte, error) {
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	b := make([]byte, size)
	n, err := f.ReadAt(b, 0)
	if err != nil && !(errors.Is(err, io.EOF) && int64(n) == size) {
		return nil, err
	}
	return b[:n], nil
}
