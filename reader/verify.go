package reader

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// VerifyOptions tune VerifyWith.
type VerifyOptions struct {
	// Progress, if set, is called after each segment with bytes done and
	// total.
	Progress func(done, total int64)
	// All goes on after each problem instead of stopping at the first:
	// past damage in a segment, checking resumes at the next intact frame
	// (so one damaged frame may also be reported as the batch or the
	// entity sequence it breaks); a segment file that is missing is a
	// problem and the next one is checked; a segment's footer is compared
	// with its frames only where the frames had no problem.
	All bool
}

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
func Verify(ctx context.Context, fs vfs.FS, dir string, progress func(done, total int64)) (event.VerifyReport, error) {
	return VerifyWith(ctx, fs, dir, VerifyOptions{Progress: progress})
}

// VerifyWith is Verify with options: see VerifyOptions.
func VerifyWith(ctx context.Context, fs vfs.FS, dir string, opts VerifyOptions) (event.VerifyReport, error) {
	began := time.Now()
	var rep event.VerifyReport
	var missing []uint64
	if err := CheckDir(fs, dir); err != nil {
		return rep, err
	}
	ids, err := listSegments(fs, dir)
	if err != nil && errors.Is(err, ErrMissingSegment) && opts.All {
		ids, missing, err = listWithGaps(fs, dir)
	}
	if err != nil {
		return rep, err
	}
	progress := opts.Progress
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
		for len(missing) > 0 && missing[0] < id {
			rep.AddProblem(fmt.Errorf("%w: segment %016x is missing", ErrMissingSegment, missing[0]))
			missing = missing[1:]
		}
		data, err := readSegment(fs, dir, id)
		if err != nil {
			return rep, err
		}
		rep.Segments++
		rep.Bytes += int64(len(data))
		problems := len(rep.Problems)
		if _, err := segment.DecodeHeader(data); err != nil {
			rep.AddProblem(&event.CorruptionError{Segment: id, Lost: int64(len(data)), Cause: err})
			if !opts.All {
				break
			}
		}
		c, compacted := segment.ReadCompacted(data, id)
		if compacted {
			compactedTo = max(compactedTo, c.LastGlobal)
		}
		var seen []segment.FooterEntry // this segment's events, to check its footer against
		visit := func(off int64, size int, v *segment.EventView, _ bool) error {
			rep.Events++
			seen = append(seen, segment.FooterEntry{Entity: string(v.Entity), Scope: string(v.Scope), IdemKey: string(v.IdemKey),
				Kind: v.Kind, Global: v.Global, Sequence: v.Sequence, Offset: uint32(off), Size: uint32(size)})
			c := chains[string(v.Entity)]
			if c == nil {
				c = &chainState{}
				chains[string(v.Entity)] = c
			}
			bad := func(format string, args ...any) error {
				err := fmt.Errorf("%w: %w", ErrChainBroken, &event.CorruptionError{
					Segment: id, Offset: off, Lost: int64(size), Cause: fmt.Errorf(format, args...)})
				if !opts.All {
					return err
				}
				// Go on from this event, as the start of its entity's chain.
				rep.AddProblem(err)
				c.next, c.hash, c.global = v.Sequence+1, v.Hash, v.Global
				return nil
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
				switch {
				case segment.VerifyHash(body, c.hash):
					rep.ChainsVerified++
				case compacted && (segment.IsTombstone(v) || segment.IsStripped(v)):
					// Only compaction writes a tombstone or strips a shredded
					// payload, so that the event does not hash over its body,
					// and only into a segment it writes.
					rep.Tombstones++
				default:
					return bad("entity %q sequence %d does not hash over its predecessor", v.Entity, v.Sequence)
				}
			}
			c.next, c.hash, c.global = v.Sequence+1, v.Hash, v.Global
			return nil
		}
		res, err := scanAll(data, id, lastGlobal, syncedTo(data, i == len(ids)-1), opts.All, visit, rep.AddProblem)
		if err != nil {
			rep.AddProblem(err)
			break
		}
		if res.FooterAt > 0 && len(rep.Problems) == problems {
			if err := checkFooter(id, data, seen); err == nil {
				rep.Footers++
			} else if rep.AddProblem(err); !opts.All {
				break
			}
		}
		if res.Torn {
			if i != len(ids)-1 {
				rep.AddProblem(&event.CorruptionError{Segment: id, Offset: res.End, Lost: int64(len(data)) - res.End,
					Cause: fmt.Errorf("%w: a sealed segment ends in damage: %s", segment.ErrBadRecord, res.TornReason)})
				if !opts.All {
					break
				}
			} else {
				rep.TornTail = true
			}
		}
		lastGlobal = res.LastGlobal
		if progress != nil {
			progress(rep.Bytes, total)
		}
	}
	for _, id := range missing { // after the last segment present: only with a damaged listing
		rep.AddProblem(fmt.Errorf("%w: segment %016x is missing", ErrMissingSegment, id))
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
		return &event.CorruptionError{Segment: id, Offset: at, Lost: int64(len(data)) - at, Cause: err}
	}
	return nil
}

// scanAll scans a segment's frames. With all, it goes on after damage:
// each *event.CorruptionError is passed to problem and the scan resumes
// at the next intact frame (the end of the bytes the error says are
// lost), numbering on from the last event read. Without all, the first
// error ends the scan and is returned.
func scanAll(data []byte, id, lastGlobal uint64, synced int64, all bool, visit segment.Visit, problem func(error)) (segment.ScanResult, error) {
	from := int64(segment.HeaderSize)
	for {
		res, err := segment.Scan(data, id, from, lastGlobal, synced, visit)
		var ce *event.CorruptionError
		if err == nil || !all || !errors.As(err, &ce) || ce.Lost <= 0 {
			return res, err
		}
		problem(err)
		lastGlobal, from = res.LastGlobal, ce.Offset+ce.Lost
		if from >= int64(len(data)) {
			res.End = int64(len(data))
			return res, nil
		}
	}
}

// listWithGaps lists the live segments of dir like readLayout, but where
// a segment is missing it goes on, returning the missing ids.
func listWithGaps(fs vfs.FS, dir string) (ids, missing []uint64, err error) {
	names, err := fs.List(dir)
	if err != nil {
		return nil, nil, err
	}
	var all []uint64
	for _, n := range names {
		if id, ok := segment.ParseFileName(n); ok {
			all = append(all, id)
		}
	}
	through := uint64(0)
	for i, id := range all {
		if i > 0 && id <= through {
			continue // replaced by a compacted segment: a leftover
		}
		for m := through + 1; i > 0 && m < id; m++ {
			missing = append(missing, m)
		}
		ids = append(ids, id)
		through = id
		c, ok, err := readCompactedRecord(fs, dir, id)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			through = max(id, c.Through)
		}
	}
	return ids, missing, nil
}
