package batpakrust

import (
	"context"
	"errors"
	"fmt"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// ImportReport is what Import did, on top of what the scan of the
// batpak-rust store found (Report).
type ImportReport struct {
	Report
	// Imported counts the events written now; Replayed those found already
	// in the destination (an earlier, interrupted run of the same import
	// wrote them) and left as they were.
	Imported int
	Replayed int
	// BatchesImported counts the atomic batches written now.
	BatchesImported int
	// Unimportable counts events batpak-go refuses — a coordinate it does
	// not allow (empty, longer than 1,024 bytes, not UTF-8, holding NUL), a
	// payload above the destination's WithMaxPayload, a batch above its
	// WithBatchLimits — and Refused says which; a batch goes whole.
	Unimportable int
	Refused      []Refused
	// Renumbered counts imported events whose per-entity sequence in the
	// destination differs from batpak-rust's (events before them were
	// skipped or damaged, or the entity already had events there).
	Renumbered int
}

// Refused is an event, or a batch, that batpak-go does not accept.
type Refused struct {
	Segment uint64
	Offset  int64
	ID      string
	Events  int // 1, or the batch's item count
	Reason  string
}

// Import copies the events of a batpak-rust store into dst, in log order:
// each event keeps its id, correlation and causation ids, kind, flags,
// payload bytes (MessagePack: batpak.Decode works), coordinate, timestamp
// and clock reading; each committed batch becomes one atomic batch. What
// Scan skips (unfinished batches, damaged frames) is skipped and reported.
// Per-entity and global sequences are dst's own: into an empty store, each
// entity's sequences are batpak-rust's when nothing was skipped, and global
// sequences are batpak-rust's plus one (batpak-go counts from 1).
//
// Import is resumable: events are written through batpak.Importer, which
// recognises an id already in dst, so running the same import again after
// a crash or an interrupt writes only what is missing (Replayed counts the
// rest). A batch is written whole or not at all. Appends are acknowledged
// on write and synced at the end; a crash before that loses at most what
// the next run writes again.
//
// An event of dst with an imported id but different content stops the
// import with an error wrapping batpak.ErrDuplicate: dst is not this
// store's import.
func Import(ctx context.Context, src *Store, dst *batpak.Store, progress func(done, total int64)) (*ImportReport, error) {
	im, err := dst.Importer(batpak.OnWrite)
	if err != nil {
		return nil, err
	}
	out := &ImportReport{}
	rep, err := src.Scan(ctx, progress, func(u Unit) error { return out.write(ctx, im, u) })
	if rep != nil {
		out.Report = *rep
	}
	if err != nil {
		return out, err
	}
	if err := dst.Sync(ctx); err != nil {
		return out, err
	}
	return out, nil
}

// write imports one unit.
func (out *ImportReport) write(ctx context.Context, im *batpak.Importer, u Unit) error {
	evs := make([]batpak.ImportEvent, len(u.Events))
	for i := range u.Events {
		ev, err := importEvent(&u.Events[i])
		if err != nil {
			out.refuse(u, err)
			return nil
		}
		evs[i] = ev
	}
	var rs []batpak.Receipt
	var err error
	if u.Batch {
		rs, err = im.AppendBatch(ctx, evs)
	} else {
		var r batpak.Receipt
		if r, err = im.Append(ctx, evs[0]); err == nil {
			rs = []batpak.Receipt{r}
		}
	}
	switch {
	case errors.Is(err, batpak.ErrDuplicate):
		e := &u.Events[0]
		return fmt.Errorf("batpakrust: the destination already holds another event with an id of this store (the unit at segment %d offset %d): %w",
			e.Segment, e.Offset, err)
	case refusable(err):
		out.refuse(u, err)
		return nil
	case err != nil:
		return err
	}
	for i, r := range rs {
		if r.Replayed {
			out.Replayed++
		} else {
			out.Imported++
		}
		if r.Sequence != u.Events[i].Sequence {
			out.Renumbered++
		}
	}
	if u.Batch && !rs[0].Replayed {
		out.BatchesImported++
	}
	return nil
}

// refusable reports whether err is batpak-go refusing what an event holds
// (as opposed to the store failing).
func refusable(err error) bool {
	return errors.Is(err, batpak.ErrInvalidCoordinate) || errors.Is(err, batpak.ErrPayloadTooLarge) ||
		errors.Is(err, batpak.ErrBatchTooLarge) || errors.Is(err, batpak.ErrInvalidKind)
}

func (out *ImportReport) refuse(u Unit, err error) {
	out.Unimportable += len(u.Events)
	if len(out.Refused) < MaxListed {
		e := &u.Events[0]
		out.Refused = append(out.Refused, Refused{Segment: e.Segment, Offset: e.Offset, ID: e.ID.String(), Events: len(u.Events), Reason: err.Error()})
	}
}

// importEvent maps a batpak-rust event to what batpak.Importer takes.
func importEvent(e *Event) (batpak.ImportEvent, error) {
	coord, err := event.NewCoordinate(e.Entity, e.Scope)
	if err != nil {
		return batpak.ImportEvent{}, err
	}
	codec := batpak.MsgPack
	if len(e.Payload) == 0 {
		codec = batpak.Raw // a tombstone's, or an empty payload: nothing to decode
	}
	return batpak.ImportEvent{
		ID: e.ID, Coord: coord, Kind: e.Kind, Codec: codec, Payload: e.Payload,
		Correlation: e.Correlation, Causation: e.Causation, Flags: uint16(e.Flags),
		Timestamp: e.TimestampUS, WallMS: e.WallMS, Counter: e.Counter,
	}, nil
}
