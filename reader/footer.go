package reader

import (
	"errors"
	"fmt"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/segment"
)

// fromFooter indexes a sealed segment from its footer instead of decoding
// its frames. ok is false when the segment has no footer (the caller scans
// it). The footer's CRC and its agreement with the segment are checked
// (segment.WalkFooter), its first event must follow the previous
// segment's, and each frame it names must pass its CRC and hold an event,
// whose id, clock reading and links are read from it: what the footer saves is decoding and
// validating every field. Any failure is a *CorruptionError, as damage
// anywhere in a sealed segment is — a footer is never half trusted.
//
// seed, if not nil, is given every entry too (the last segment's footer
// seeds the writer's next one). at is the footer's offset.
func (rec *Recovered) fromFooter(id uint64, data []byte, pend *[]index.Pending, seed *segment.FooterBuilder) (at int64, ok bool, err error) {
	*pend = (*pend)[:0]
	var last *segment.FooterEntry
	var lastCopy segment.FooterEntry
	var v segment.EventView
	first := true
	at, err = segment.WalkFooter(data, func(e *segment.FooterEntry) error {
		if first && e.Global <= rec.LastGlobal {
			return fmt.Errorf("%w: footer: first event %d does not follow %d", segment.ErrBadRecord, e.Global, rec.LastGlobal)
		}
		first = false
		frame := data[e.Offset : e.Offset+e.Size]
		body, _, err := segment.ReadFrame(frame)
		if err != nil {
			return &event.CorruptionError{Segment: id, Offset: int64(e.Offset), Lost: int64(e.Size), Cause: err}
		}
		// The fields the footer does not hold (id, clock, links) are
		// read from the frame, which was just checked.
		if err := segment.ParseEventFields(body, &v); err != nil {
			return &event.CorruptionError{Segment: id, Offset: int64(e.Offset), Lost: int64(e.Size),
				Cause: fmt.Errorf("%w: the footer names a frame that is not an event: %w", segment.ErrBadRecord, err)}
		}
		*pend = append(*pend, index.Pending{
			ID: v.ID, Entity: e.Entity, Scope: e.Scope, IdemKey: e.IdemKey, Correlation: v.Correlation,
			Causation: v.Causation, Position: event.Position{WallMS: v.WallMS, Counter: v.Counter}, Kind: e.Kind, Global: e.Global, Sequence: e.Sequence,
			Segment: uint32(id), Offset: e.Offset, Size: e.Size,
		})
		if len(*pend) == publishChunk {
			*pend = rec.handOver(*pend)
		}
		lastCopy, last = *e, &lastCopy
		if seed != nil {
			seed.Add(e)
		}
		return nil
	})
	if errors.Is(err, segment.ErrNoFooter) {
		return 0, false, nil
	}
	if err != nil {
		var ce *event.CorruptionError
		if !errors.As(err, &ce) {
			err = &event.CorruptionError{Segment: id, Offset: at, Lost: int64(len(data)) - at, Cause: err}
		}
		return at, true, err
	}
	*pend = rec.handOver(*pend)
	if last != nil {
		rec.LastGlobal = last.Global
		// The writer's clock and id generator continue from the newest
		// event: decode that one frame fully.
		body, _, _ := segment.ReadFrame(data[last.Offset : last.Offset+last.Size])
		if err := segment.ParseEvent(body, &v); err != nil || v.Global != last.Global || v.Sequence != last.Sequence {
			return at, true, &event.CorruptionError{Segment: id, Offset: int64(last.Offset), Lost: int64(last.Size),
				Cause: fmt.Errorf("%w: the footer's last event is not the one in its frame", segment.ErrBadRecord)}
		}
		rec.noteLast(&v)
	}
	if c, ok := segment.ReadCompacted(data, id); ok && c.LastGlobal > rec.LastGlobal {
		rec.LastGlobal = c.LastGlobal
	}
	rec.Report.Footers++
	return at, true, nil
}
