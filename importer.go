package batpak

import (
	"context"
	"fmt"
	"sync"

	"github.com/batpak-go/batpak/writer"
)

// Importer appends events that keep the ids and timestamps they had in
// another store: the only way to give an event an id of one's own, meant
// for imports (package migrate/batpakrust, `batpak import`). Everything
// else about the append is the store's: sequences, hash chain, atomic
// batches, durability, crash recovery. It also takes kinds of the reserved
// categories (an imported store holds effect kinds and tombstones).
//
// An event whose id the store already holds is a replay — its receipt
// comes back with Replayed set, nothing written — if it is the same event
// (coordinate, kind, payload), else ErrDuplicate; a batch is replayed only
// whole. So an import cut short (a crash, an interrupt) is finished by
// running it again. The store's own ids and clock readings sort after
// every imported event (an id that is not a UUIDv7 does not move them).
//
// An Importer is safe for concurrent use; its calls are applied one at a
// time, each after the previous one's event is in the index (so a replay
// is recognised). The store's other append paths are unaffected.
type Importer struct {
	s          *Store
	durability Durability
	mu         sync.Mutex // one import call at a time: a replay is recognised only once the event is indexed
}

// Importer returns an importer whose appends are acknowledged per d
// (DefaultDurability: the store's mode). An import is fastest with OnWrite
// and a Sync at the end: an event lost to a crash before its sync is
// simply imported again by the next run.
func (s *Store) Importer(d Durability) (*Importer, error) {
	if err := s.readable(context.Background()); err != nil {
		return nil, err
	}
	if s.readOnly {
		return nil, ErrReadOnly
	}
	if d != DefaultDurability && d != Durable && d != OnWrite {
		return nil, fmt.Errorf("%w: durability %v", ErrInvalidOption, d)
	}
	return &Importer{s: s, durability: s.durability(d)}, nil
}

// Has reports whether the store holds an event with this id.
func (im *Importer) Has(id ID) bool {
	_, ok := im.s.idx.LookupID(id)
	return ok
}

// Append appends one imported event (see Importer).
func (im *Importer) Append(ctx context.Context, ev ImportEvent) (Receipt, error) {
	it, err := im.item(&ev)
	if err != nil {
		return Receipt{}, err
	}
	rs, err := im.send(ctx, writer.NewAppend(it, im.durability))
	if err != nil {
		return Receipt{}, err
	}
	return rs[0], nil
}

// AppendBatch appends imported events as one atomic batch: all of them or
// none is ever visible, after a crash too. Limits are the store's
// (WithBatchLimits, WithMaxPayload). A failure names the item with a
// *BatchItemError.
func (im *Importer) AppendBatch(ctx context.Context, evs []ImportEvent) ([]Receipt, error) {
	its, err := im.s.batchItems(len(evs), func(i int) (writer.Item, error) { return im.item(&evs[i]) })
	if err != nil {
		return nil, err
	}
	return im.send(ctx, writer.NewBatch(its, im.durability))
}

// item checks ev and makes it an item, sealed on an encrypted store.
func (im *Importer) item(ev *ImportEvent) (writer.Item, error) {
	it, err := writer.ImportItem(ev, im.s.Limits())
	if err == nil && im.s.keys != nil {
		err = im.s.seal(&it)
	}
	return it, err
}

// send applies r once the previous call's events are in the index.
func (im *Importer) send(ctx context.Context, r *writer.Request) (rs []Receipt, err error) {
	im.mu.Lock()
	defer im.mu.Unlock()
	err = im.s.roundTrip(ctx, r, func(got []Receipt) { rs = append(rs, got...) })
	return rs, err
}
