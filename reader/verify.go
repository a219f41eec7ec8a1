package reader

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// VerifyReport is what Verify found.
type VerifyReport struct {
	Segments       int
	Events         int
	Entities       int
	Bytes          int64
	ChainsVerified int // events whose hash link was checked
	// ChainRestarts counts events whose predecessors were dropped by
	// retention (compaction): their link cannot be checked, and the chain
	// is verified again from them on.
	ChainRestarts int
	// Footers counts the segment footers checked against their segments.
	Footers  int
	Duration time.Duration
	// TornTail is set when the last segment ends in a torn tail (which Open
	// would truncate); it is not a problem. On a store another process is
	// writing, it may be a frame still being written.
	TornTail bool
	// UnusedSegments lists trailing segment files with no valid header and
	// nothing after it: one a writer is creating, or whose creation a crash
	// cut short (Open removes those). They hold no event; not a problem.
	UnusedSegments []uint64
	// Problem is the first damage found, nil if none; Verify stops there.
	Problem error
}

// OK reports whether no problem was found.
func (r VerifyReport) OK() bool { return r.Problem == nil }

// ErrChainBroken marks an event that does not hash over its predecessor,
// or whose sequence does not follow its entity's previous event.
var ErrChainBroken = errors.New("batpak: hash chain broken")

type chainState struct {
	next   uint64
	hash   [32]byte
	global uint64 // of the entity's last event seen
}

// Verify checks every segment of the store in dir without changing
// anything or taking the writer's lock: frame CRCs, record structure,
// global order, batch markers, per-entity sequences and hash chains.
// progress, if set, is called after each segment with bytes done and total.
// A store open for writing elsewhere may be verified: what is read is
// checked as of the moment it is read. Every byte present is checked,
// frames past the last segment's sync note included (frames written and
// not yet synced, which a reader opened read-only does not show): they
// are the store's if no power loss intervenes, and damage there is a torn
// tail, not a problem.
func Verify(ctx context.Context, fs vfs.FS, dir string, progress func(done, total int64)) (VerifyReport, error) {
	began := time.Now()
	var rep VerifyReport
	ids, err := listSegments(fs, dir)
	if err != nil {
		return rep, err
	}
	// A segment being created has no whole header yet; Open removes one a
	// crash left so. The rule is recovery's (hasValidHeader).
	for len(ids) > 0 {
		last := ids[len(ids)-1]
		ok, err := hasValidHeader(fs, filepath.Join(dir, segment.FileName(last)))
		if err != nil {
			return rep, err
		}
		if ok {
			break
		}
		rep.UnusedSegments = append(rep.UnusedSegments, last)
		ids = ids[:len(ids)-1]
	}
	var total int64
	for _, id := range ids {
		if f, err := fs.Open(filepath.Join(dir, segment.FileName(id))); err == nil {
			if n, err := f.Size(); err == nil {
				total += n
			}
			f.Close()
		}
	}
	chains := map[string]*chainState{}
	lastGlobal := uint64(0)
	// compactedTo is the end of the global range covered by the compacted
	// segments seen so far: only there may retention have dropped events.
	compactedTo := uint64(0)
	for i, id := range ids {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		data, err := readSegment(fs, dir, id)
		if err != nil {
			return rep, err
		}
		rep.Segments++
		rep.Bytes += int64(len(data))
		if _, err := segment.DecodeHeader(data); err != nil {
			rep.Problem = &segment.CorruptionError{Segment: id, Lost: int64(len(data)), Cause: err}
			break
		}
		if c, ok := segment.ReadCompacted(data, id); ok {
			compactedTo = max(compactedTo, c.LastGlobal)
		}
		var seen []segment.FooterEntry // this segment's events, to check its footer against
		res, err := segment.Scan(data, id, segment.HeaderSize, lastGlobal, syncedTo(data, i == len(ids)-1), func(off int64, size int, v *segment.EventView, _ bool) error {
			rep.Events++
			seen = append(seen, segment.FooterEntry{Entity: string(v.Entity), Scope: string(v.Scope), IdemKey: string(v.IdemKey),
				Kind: v.Kind, Global: v.Global, Sequence: v.Sequence, Offset: uint32(off), Size: uint32(size)})
			c := chains[string(v.Entity)]
			if c == nil {
				c = &chainState{}
				chains[string(v.Entity)] = c
			}
			bad := func(format string, args ...any) error {
				return fmt.Errorf("%w: %w", ErrChainBroken, &segment.CorruptionError{
					Segment: id, Offset: off, Lost: int64(size), Cause: fmt.Errorf(format, args...)})
			}
			// A gap is legitimate only where retention may have dropped the
			// events between: after the entity's last kept event, inside a
			// compacted range. The chain then restarts from this event.
			restart := v.Sequence > c.next && c.global < compactedTo
			if v.Sequence != c.next && !restart {
				return bad("entity %q: sequence %d where %d was next", v.Entity, v.Sequence, c.next)
			}
			if restart {
				rep.ChainRestarts++
			} else if v.HasHash {
				body, _, _ := segment.ReadFrame(data[off:])
				if !segment.VerifyHash(body, c.hash) {
					return bad("entity %q sequence %d does not hash over its predecessor", v.Entity, v.Sequence)
				}
				rep.ChainsVerified++
			}
			c.next, c.hash, c.global = v.Sequence+1, v.Hash, v.Global
			return nil
		})
		if err != nil {
			rep.Problem = err
			break
		}
		if err == nil && res.FooterAt > 0 {
			if err = checkFooter(id, data, seen); err == nil {
				rep.Footers++
			}
		}
		if err != nil {
			rep.Problem = err
			break
		}
		if res.Torn {
			if i != len(ids)-1 {
				rep.Problem = &segment.CorruptionError{Segment: id, Offset: res.End, Lost: int64(len(data)) - res.End,
					Cause: fmt.Errorf("%w: a sealed segment ends in damage: %s", segment.ErrBadRecord, res.TornReason)}
				break
			}
			rep.TornTail = true
		}
		lastGlobal = res.LastGlobal
		if progress != nil {
			progress(rep.Bytes, total)
		}
	}
	rep.Entities = len(chains)
	rep.Duration = time.Since(began)
	return rep, nil
}

func readSegment(fs vfs.FS, dir string, id uint64) ([]byte, error) {
	f, err := fs.Open(filepath.Join(dir, segment.FileName(id)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAll(f)
}

// checkFooter compares a segment's footer with the events its frames hold.
func checkFooter(id uint64, data []byte, seen []segment.FooterEntry) error {
	f, err := segment.DecodeFooter(data)
	if err == nil && len(f.Entries) != len(seen) {
		err = fmt.Errorf("%w: the footer lists %d events, the segment holds %d", segment.ErrBadRecord, len(f.Entries), len(seen))
	}
	if err == nil {
		for i := range seen {
			if f.Entries[i] != seen[i] {
				err = fmt.Errorf("%w: footer entry %d disagrees with the frame at offset %d", segment.ErrBadRecord, i, seen[i].Offset)
				break
			}
		}
	}
	if err != nil {
		at := int64(len(data))
		if f != nil {
			at = f.At
		}
		return &segment.CorruptionError{Segment: id, Offset: at, Lost: int64(len(data)) - at, Cause: err}
	}
	return nil
}
