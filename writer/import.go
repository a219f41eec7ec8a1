package writer

import (
	"fmt"

	"github.com/batpak-go/batpak/event"
)

// Imported is what an import keeps of an event another store wrote: its id
// and its clock readings. Only the facade's Importer sets Item.Import; the
// public append paths never do.
//
// An imported event is recognised by its id: one whose id the index
// already holds is a replay (its receipt comes back, nothing is written)
// if it is the same event — coordinate, kind and payload — and
// ErrDuplicate otherwise. So an interrupted import is resumed by simply
// running it again. The writer's id generator is moved above every
// imported UUIDv7 (see event.Generator.Observe) and its hybrid clock above
// every imported reading, so the store's own later ids and positions sort
// after the imported ones.
type Imported struct {
	ID        event.ID
	Timestamp int64  // µs since the Unix epoch
	WallMS    uint64 // hybrid-clock wall milliseconds
	Counter   uint32 // hybrid-clock counter
}

// importedSeen looks an imported item's id up: found, it must be the same
// event, and its receipt is returned for a replay.
func (c *core) importedSeen(it *Item) (event.Receipt, bool, error) {
	e, ok := c.idx.LookupID(it.Import.ID)
	if !ok {
		return event.Receipt{}, false, nil
	}
	ev, err := c.log.loadEvent(e)
	if err != nil {
		return event.Receipt{}, false, err
	}
	if ev.Coordinate != it.Coord || ev.Kind != it.Kind || ev.PayloadErr != nil || !event.SamePayload(ev.Codec, ev.Payload, it.Codec, it.Plaintext()) {
		return event.Receipt{}, false, fmt.Errorf("%w: imported id %v is already event %d (%s kind %v), which differs",
			ErrDuplicate, it.Import.ID, ev.Global, ev.Coordinate, ev.Kind)
	}
	return ReceiptOf(ev), true, nil
}

// batchImported applies importedSeen to an atomic batch of imported items:
// all seen is a replay of the batch, none seen writes it, and a batch part
// of which is there is ErrDuplicate (an atomic batch is all there or not
// at all). Ids must be unique in the batch.
func (c *core) batchImported(r *Request) (replayed bool, err error) {
	var prev []event.Receipt
	firstNew := -1
	inBatch := make(map[event.ID]int, len(r.items))
	for i := range r.items {
		it := &r.items[i]
		if it.Import == nil {
			return false, &event.BatchItemError{Item: i, Err: fmt.Errorf("%w: an imported batch mixes in an item that is not imported", event.ErrBatchInvalid)}
		}
		if j, dup := inBatch[it.Import.ID]; dup {
			return false, &event.BatchItemError{Item: i, Err: fmt.Errorf("%w: id %v repeats item %d", ErrDuplicate, it.Import.ID, j)}
		}
		inBatch[it.Import.ID] = i
		rc, found, err := c.importedSeen(it)
		if err != nil {
			return false, &event.BatchItemError{Item: i, Err: err}
		}
		if found {
			prev = append(prev, rc)
		} else if firstNew < 0 {
			firstNew = i
		}
	}
	switch len(prev) {
	case 0:
		return false, nil
	case len(r.items):
		c.replay(r, prev...)
		return true, nil
	}
	return false, &event.BatchItemError{Item: firstNew, Err: fmt.Errorf(
		"%w: %d of %d imported ids are already in the store; an atomic batch is there whole or not at all", ErrDuplicate, len(prev), len(r.items))}
}

// stamp returns the id and clock readings of the event it: the imported
// ones (moving the generator and the clock above them), or fresh ones.
func (c *core) stamp(it *Item) (id event.ID, us int64, wall uint64, counter uint32) {
	if im := it.Import; im != nil {
		c.st.ids.Observe(im.ID)
		c.st.hlc.Observe(event.Position{WallMS: im.WallMS, Counter: im.Counter})
		return im.ID, im.Timestamp, im.WallMS, im.Counter
	}
	now := c.clock()
	ms := now.UnixMilli()
	wall, counter = c.st.hlc.Tick(ms)
	return c.st.ids.Next(ms), now.UnixMicro(), wall, counter
}

// ImportItem checks an imported event as the public append paths check
// theirs, but for the kind (any kind but the batch markers') and with the
// id given, and makes it an Item.
func ImportItem(ev *event.ImportEvent, lim event.Limits) (Item, error) {
	switch {
	case ev.ID.IsZero():
		return Item{}, fmt.Errorf("%w: an imported event needs its id", event.ErrInvalidOption)
	case ev.Kind == event.KindBatchBegin || ev.Kind == event.KindBatchCommit:
		return Item{}, fmt.Errorf("%w: %v is a batch marker's kind, not an event's", event.ErrReservedKind, ev.Kind)
	case ev.Codec > event.CodecJSON:
		return Item{}, fmt.Errorf("%w: codec %v", event.ErrInvalidOption, ev.Codec)
	}
	if err := ev.Coord.Valid(); err != nil {
		return Item{}, err
	}
	if err := lim.CheckPayload(len(ev.Payload)); err != nil {
		return Item{}, err
	}
	wall := ev.WallMS
	if wall == 0 && ev.Timestamp > 0 {
		wall = uint64(ev.Timestamp / 1000)
	}
	return Item{
		Coord: ev.Coord, Kind: ev.Kind, Codec: ev.Codec, Payload: ev.Payload,
		Opts:   event.AppendOptions{Correlation: ev.Correlation, Causation: ev.Causation, Flags: ev.Flags},
		Import: &Imported{ID: ev.ID, Timestamp: ev.Timestamp, WallMS: wall, Counter: ev.Counter},
	}, nil
}
