package reader

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// layout is the store's segment files as recovery and Verify see them.
type layout struct {
	ids []uint64 // the live segments, in log order
	// leftovers are segment files a compacted segment says it replaced:
	// compaction crashed after renaming its output into place and before
	// removing them all. They are not part of the log.
	leftovers []uint64
	// temps are compaction outputs never renamed into place (names ending
	// in segment.CompactTempSuffix); the segments they were to replace are
	// all still present.
	temps []string
	// compacted holds the compaction records of the live segments that
	// compaction wrote.
	compacted []segment.CompactedRecord
}

// readLayout lists the segments of dir. Ids are consecutive except where a
// compacted segment replaced a run (its record names the last id it
// covers); any other gap is ErrMissingSegment.
func readLayout(fs vfs.FS, dir string) (layout, error) {
	var l layout
	names, err := fs.List(dir)
	if err != nil {
		return l, err
	}
	var all []uint64
	for _, n := range names {
		if id, ok := segment.ParseFileName(n); ok {
			all = append(all, id)
		} else if strings.HasSuffix(n, segment.CompactTempSuffix) {
			l.temps = append(l.temps, n)
		}
	}
	for i := 0; i < len(all); {
		id := all[i]
		l.ids = append(l.ids, id)
		through := id
		c, ok, err := readCompactedRecord(fs, dir, id)
		if err != nil {
			return l, err
		}
		if ok {
			through = c.Through
			l.compacted = append(l.compacted, c)
		}
		j := i + 1
		for j < len(all) && all[j] <= through {
			l.leftovers = append(l.leftovers, all[j])
			j++
		}
		if j < len(all) && all[j] != through+1 {
			return l, fmt.Errorf("%w: segment %016x is missing (found %016x after %016x)",
				ErrMissingSegment, through+1, all[j], through)
		}
		i = j
	}
	return l, nil
}

// listSegments returns the live segment ids of dir (see readLayout).
func listSegments(fs vfs.FS, dir string) ([]uint64, error) {
	l, err := readLayout(fs, dir)
	return l.ids, err
}

// readCompactedRecord reads the compaction record of segment id, if it has
// a valid header naming id and one.
func readCompactedRecord(fs vfs.FS, dir string, id uint64) (segment.CompactedRecord, bool, error) {
	f, err := fs.Open(filepath.Join(dir, segment.FileName(id)))
	if err != nil {
		return segment.CompactedRecord{}, false, err
	}
	defer f.Close()
	var b [segment.CompactedHeadSize]byte
	n, err := f.ReadAt(b[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return segment.CompactedRecord{}, false, err
	}
	if h, err := segment.DecodeHeader(b[:n]); err != nil || h.ID != id {
		return segment.CompactedRecord{}, false, nil
	}
	c, ok := segment.ReadCompacted(b[:n], id)
	return c, ok, nil
}

// removeLeftovers finishes or undoes an interrupted compaction: removes
// the files it left (see layout) and syncs the directory.
func removeLeftovers(fs vfs.FS, dir string, l layout) error {
	if len(l.leftovers) == 0 && len(l.temps) == 0 {
		return nil
	}
	for _, n := range l.temps {
		if err := fs.Remove(filepath.Join(dir, n)); err != nil && !vfs.IsNotExist(err) {
			return err
		}
	}
	for _, id := range l.leftovers {
		if err := fs.Remove(filepath.Join(dir, segment.FileName(id))); err != nil && !vfs.IsNotExist(err) {
			return err
		}
	}
	return fs.SyncDir(dir)
}

// leftoverNames lists the files of l that are not part of the log.
func (l layout) leftoverNames() []string {
	out := append([]string(nil), l.temps...)
	for _, id := range l.leftovers {
		out = append(out, segment.FileName(id))
	}
	return out
}
