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
// process) has added since: new frames of the last segment and any new
// segments. A frame or batch still being written is left for the next call.
// It returns the number of events added to the index.
func (rec *Recovered) CatchUp(opts Options) (int, error) {
	added := 0
	for {
		n, err := rec.catchUpSegment(opts)
		added += n
		if err != nil {
			return added, err
		}
		next := rec.LastSegment + 1
		f, err := opts.FS.Open(filepath.Join(opts.Dir, segment.FileName(next)))
		if vfs.IsNotExist(err) {
			return added, nil
		}
		if err != nil {
			return added, err
		}
		var h [segment.HeaderSize]byte
		if _, err := f.ReadAt(h[:], 0); err != nil {
			f.Close()
			return added, nil // being created: the next call sees it whole
		}
		if _, err := segment.DecodeHeader(h[:]); err != nil {
			f.Close()
			return added, nil
		}
		rec.Segments.Add(next, f)
		rec.LastSegment, rec.LastFile, rec.LastEnd = next, f, segment.HeaderSize
		rec.Report.Segments++
	}
}

// catchUpSegment scans the last segment from the end of what was indexed.
func (rec *Recovered) catchUpSegment(opts Options) (int, error) {
	if rec.LastFile == nil {
		return 0, nil
	}
	size, err := rec.LastFile.Size()
	if err != nil || size <= rec.LastEnd {
		return 0, err
	}
	buf := make([]byte, size-rec.LastEnd)
	n, err := rec.LastFile.ReadAt(buf, rec.LastEnd)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	// The writer may be mid-write anywhere past what was indexed: any damage
	// there is a write in progress (tornFrom 0), picked up by a later call.
	base, id := rec.LastEnd, rec.LastSegment
	var pend []index.Pending
	res, err := segment.Scan(buf[:n], id, 0, rec.LastGlobal, 0, rec.collect(&pend, id, base))
	if err != nil {
		return 0, fmt.Errorf("following segment %016x: %w", id, err)
	}
	rec.Index.Publish(pend)
	rec.LastGlobal = res.LastGlobal
	rec.LastEnd = base + res.End
	rec.Report.Events += len(pend)
	return len(pend), nil
}
