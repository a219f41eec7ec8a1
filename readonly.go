package batpak

import (
	"context"

	"github.com/batpak-go/batpak/internal/instrument"
	"github.com/batpak-go/batpak/kinds"
	"github.com/batpak-go/batpak/reader"
)

// OpenReadOnly opens the store in dir for reading only: it takes no lock,
// starts no goroutine and changes no file, so it may be used while another
// process has the store open for writing (inspection tools do). It sees the
// events that process had made durable when it opened — the last segment
// up to its sync note, never a frame a power loss could still erase — and
// Refresh picks up later ones the same way. A torn tail is left in place
// (the writer's own recovery truncates it) and not indexed.
// Writes return ErrReadOnly. A directory that is not a batpak store's is
// refused with a *ForeignDirError. Of the options, only WithFS, WithCodec,
// WithLogger, WithMaxOpenSegments and WithEncryption apply; without the
// key an encrypted store's payloads read as ErrSealed (or ErrShredded).
func OpenReadOnly(dir string, opts ...Option) (*Store, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if err := reader.CheckKeys(cfg.fs, dir, cfg.keys, true); err != nil {
		return nil, err
	}
	id, err := reader.ReadStoreID(cfg.fs, dir)
	if err != nil {
		return nil, err
	}
	rec, err := reader.Recover(reader.Options{FS: cfg.fs, Dir: dir, ReadOnly: true})
	if err != nil {
		return nil, reader.SalvageHint(err, dir)
	}
	keys, err := reader.OpenKeys(cfg.fs, dir, cfg.keys, rec.Segments, rec.Index, true)
	if err != nil {
		rec.Segments.Close()
		return nil, err
	}
	rec.Segments.SetBudget(cfg.fs, dir, cfg.maxOpenSegs, nil) // the newest, followed, is never closed
	return &Store{
		dir: dir, cfg: cfg, log: cfg.logger, idx: rec.Index, segs: rec.Segments,
		report: rec.Report, done: make(chan struct{}), readOnly: true, rec: rec, id: id, keys: keys,
		metrics: instrument.NewSet(),
		// After the log: every event read has its name kept before it.
		names: kinds.OpenFile(cfg.fs, dir, ErrReadOnly),
	}, nil
}

// Refresh brings a read-only store up to date with what the writing
// process has added since, and returns the number of new events. A frame
// or batch still being written is picked up by a later call. On a store
// opened for writing it returns 0: that store is always current.
func (s *Store) Refresh(ctx context.Context) (int, error) {
	if err := s.readable(ctx); err != nil || !s.readOnly {
		return 0, err
	}
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	if s.closed.Load() {
		return 0, ErrClosed
	}
	n, err := s.rec.CatchUp(reader.Options{FS: s.cfg.fs, Dir: s.dir, ReadOnly: true})
	s.names.Reload() // after the events, as at OpenReadOnly
	return n, err
}
