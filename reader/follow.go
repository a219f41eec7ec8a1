package reader

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// CatchUp extends a read-only recovery with whatever the writer (in another
// process) has added since and made durable: new frames of the last segment
// up to its sync note — the writer rewrites the note right after each fsync,
// so a follower never shows an event a crash could still erase — and, once a
// newer segment exists, the rest of this one (a segment is synced whole
// before the next is created). A frame or batch still being written is left
// for a later call. It returns the number of events added to the index.
func (rec *Recovered) CatchUp(opts Options) (int, error) {
	added := 0
	for {
		next := rec.LastSegment + 1
		nf, err := openComplete(opts, next)
		if err != nil {
			return added, err
		}
		n, err := rec.catchUpSegment(nf != nil)
		added += n
		if err != nil || nf == nil {
			if nf != nil {
				nf.Close()
			}
			return added, err
		}
		rec.Segments.Add(next, nf)
		rec.LastSegment, rec.LastFile, rec.LastEnd = next, nf, segment.HeaderSize
		rec.Report.Segments++
	}
}

// openComplete opens segment id if it exists with a whole header; nil if
// not (yet).
func openComplete(opts Options, id uint64) (vfs.File, error) {
	f, err := opts.FS.Open(filepath.Join(opts.Dir, segment.FileName(id)))
	if vfs.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var h [segment.HeaderSize]byte
	if _, err := f.ReadAt(h[:], 0); err != nil {
		f.Close()
		return nil, nil // being created: a later call sees it whole
	}
	if _, err := segment.DecodeHeader(h[:]); err != nil {
		f.Close()
		return nil, nil
	}
	return f, nil
}

// followChunk bounds each read while following, so an idle follower reads
// nothing and a busy one reads what is new, not a whole preallocated segment.
const followChunk = 1 << 20

// catchUpSegment indexes the last segment's durable frames past what was
// indexed: up to its sync note, or to its end once it is sealed.
func (rec *Recovered) catchUpSegment(sealed bool) (int, error) {
	if rec.LastFile == nil {
		return 0, nil
	}
	limit, err := rec.LastFile.Size()
	if err != nil {
		return 0, err
	}
	if !sealed {
		var h [segment.HeaderSize]byte
		if _, err := rec.LastFile.ReadAt(h[:], 0); err != nil {
			return 0, err
		}
		note, ok := segment.DecodeSyncNote(h[:])
		if !ok {
			return 0, nil // the note is being rewritten: try again later
		}
		limit = min(limit, note)
	}
	id, added, chunk := rec.LastSegment, 0, int64(followChunk)
	var pend []index.Pending
	for rec.LastEnd < limit {
		base := rec.LastEnd
		buf := make([]byte, min(limit-base, chunk))
		if err := rec.Segments.ReadAt(id, buf, base); err != nil && !errors.Is(err, io.EOF) {
			return added, err
		}
		pend = pend[:0]
		// Past the durable limit nothing is read; within it, a frame cut by
		// the chunk's end is finished by the next round (tornFrom 0).
		res, err := segment.Scan(buf, id, 0, rec.LastGlobal, 0, rec.collect(&pend, id, base))
		if err != nil {
			return added, fmt.Errorf("following segment %016x: %w", id, err)
		}
		rec.Index.Publish(pend)
		added += int(res.Events)
		rec.LastGlobal = res.LastGlobal
		if res.End == 0 {
			if base+int64(len(buf)) >= limit {
				break // no whole record yet
			}
			chunk *= 2 // a record (a large batch) longer than the chunk
			continue
		}
		rec.LastEnd = base + res.End
	}
	rec.Report.Events += added
	return added, nil
}
