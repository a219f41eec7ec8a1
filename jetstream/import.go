package jetstream

import (
	"context"
	"fmt"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/writer"
)

// Importer appends events that keep the ids, correlations, causations,
// flags and clock readings they had in another store: the narrow write
// path of a copy into the stream (CopyFrom, the batpak-jetstream copy
// command), as batpak.Store.Importer is the embedded store's. Everything
// else is the store's: per-entity sequences and chain hashes, the
// per-entity sequence check, atomic batches. It takes kinds of the
// reserved categories too (a store holds effect kinds and tombstones).
//
// Every message carries its event id as Nats-Msg-Id, so an attempt
// repeated within the duplicate window is stored once. Beyond it an id is
// not looked up (that would cost a read per event): CopyFrom resumes after
// the stream's last event instead, so it never repeats one.
type Importer struct{ s *Store }

// Importer returns the store's importer.
func (s *Store) Importer() *Importer { return &Importer{s: s} }

// Append appends one imported event.
func (im *Importer) Append(ctx context.Context, ev batpak.ImportEvent) (batpak.Receipt, error) {
	if err := im.s.check(); err != nil {
		return batpak.Receipt{}, err
	}
	d, err := im.s.importDraft(&ev)
	if err != nil {
		return batpak.Receipt{}, err
	}
	return im.s.appendDraft(ctx, d, batpak.AppendOptions{})
}

// AppendBatch appends imported events as one atomic batch (at most
// MaxBatch). A failure names the item with a *batpak.BatchItemError.
func (im *Importer) AppendBatch(ctx context.Context, evs []batpak.ImportEvent) ([]batpak.Receipt, error) {
	s := im.s
	if err := s.check(); err != nil {
		return nil, err
	}
	switch {
	case len(evs) == 0:
		return nil, batpak.ErrEmptyBatch
	case len(evs) > MaxBatch:
		return nil, fmt.Errorf("%w: %d items exceeds %d", batpak.ErrBatchTooLarge, len(evs), MaxBatch)
	}
	ds := make([]*draft, len(evs))
	seen := make(map[event.ID]int, len(evs))
	for i := range evs {
		if j, dup := seen[evs[i].ID]; dup {
			return nil, &batpak.BatchItemError{Item: i, Err: fmt.Errorf("%w: id %v repeats item %d", batpak.ErrDuplicate, evs[i].ID, j)}
		}
		seen[evs[i].ID] = i
		d, err := s.importDraft(&evs[i])
		if err != nil {
			return nil, &batpak.BatchItemError{Item: i, Err: err}
		}
		ds[i] = d
	}
	return s.appendDrafts(ctx, make([]batpak.BatchItem, len(ds)), ds)
}

// importDraft checks an imported event as the embedded store's importer
// does (writer.ImportItem) and builds its draft with its own id and clock
// readings, which the store's generator and clock then stay above.
func (s *Store) importDraft(ev *batpak.ImportEvent) (*draft, error) {
	it, err := writer.ImportItem(ev, s.Limits())
	if err != nil {
		return nil, err
	}
	subj, err := s.subj.event(it.Coord, it.Kind)
	if err != nil {
		return nil, err
	}
	im := it.Import
	s.clockMu.Lock()
	s.ids.Observe(im.ID)
	s.hlc.Observe(event.Position{WallMS: im.WallMS, Counter: im.Counter})
	s.clockMu.Unlock()
	corr := it.Opts.Correlation
	if corr.IsZero() {
		corr = im.ID
	}
	d := &draft{coord: it.Coord, subj: subj, msgID: msgID("", im.ID), imported: true}
	d.rec = segment.EventRecord{
		ID: im.ID, Correlation: corr, Causation: it.Opts.Causation, Kind: it.Kind, Flags: it.Opts.Flags,
		Timestamp: im.Timestamp, WallMS: im.WallMS, Counter: im.Counter, Codec: it.Codec,
		Entity: it.Coord.Entity(), Scope: it.Coord.Scope(), Payload: it.Payload,
	}
	return d, nil
}

// importOf is a stored event as an import takes it.
func importOf(ev *batpak.StoredEvent) batpak.ImportEvent {
	return batpak.ImportEvent{
		ID: ev.ID, Coord: ev.Coordinate, Kind: ev.Kind, Codec: ev.Codec, Payload: ev.Payload,
		Correlation: ev.Correlation, Causation: ev.Causation, Flags: ev.Flags,
		Timestamp: ev.Timestamp, WallMS: ev.Position.WallMS, Counter: ev.Position.Counter,
	}
}
