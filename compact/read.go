package compact

import (
	"context"

	"github.com/batpak-go/batpak/reader"
)

// Plan is a whole compaction's plan: the sealed segments it read and the
// groups to rewrite. It pins the bytes of every segment it read until
// Release, so that an open-segment budget cannot unmap what the rewrite
// copies.
type Plan struct {
	Segments []*Segment   // every sealed segment read, in log order
	Groups   [][]*Segment // the runs to rewrite, one file each (see Group)
	release  []func()
}

// Read plans the compaction of sealed (a prefix of segs.Live(), without the
// writer's active segment): it reads each segment (Rules.PlanSegment) and groups
// them by target, the bound on one merged file's kept bytes. Every event of
// sealed must already be in the index: the caller takes a write barrier
// first. On error nothing stays pinned.
func Read(ctx context.Context, segs *reader.Segments, sealed []reader.SegmentInfo, rules Rules, target int64) (*Plan, error) {
	p := &Plan{Segments: make([]*Segment, 0, len(sealed))}
	for _, info := range sealed {
		if err := ctx.Err(); err != nil {
			p.Release()
			return nil, err
		}
		data, release, err := segs.View(uint64(info.ID))
		if err != nil {
			p.Release()
			return nil, err
		}
		p.release = append(p.release, release)
		sp, err := rules.PlanSegment(info, data)
		if err != nil {
			p.Release()
			return nil, err
		}
		p.Segments = append(p.Segments, sp)
	}
	p.Groups = Group(p.Segments, target)
	return p, nil
}

// Release lets go of the segments the plan pinned: a segment the rewrite
// replaced is closed and unmapped now if nothing else holds it. The plan's
// segments must not be used afterwards. Release is idempotent.
func (p *Plan) Release() {
	// In reverse, as the deferred releases of one loop would run.
	for i := len(p.release) - 1; i >= 0; i-- {
		p.release[i]()
	}
	p.release = nil
}
