package batpak

import (
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/reader"
)

// writeCheckpoint saves the index on a clean close, so the next Open
// restores it and scans only what was written after. Close calls it after
// every actor has stopped and the log is synced; a store that failed stop
// writes none (the next Open rebuilds by scanning).
func (s *Store) writeCheckpoint() error {
	if !index.CheckpointsSupported || s.failure() != nil {
		return nil
	}
	seg, end := s.w.Tail()
	x := s.idx
	if s.compacted.Load() {
		// After a compaction the index may name segments by in-memory ids
		// and keep numbers of entities with no event left: checkpoint a
		// copy numbered as a scan of the files would number it.
		x = x.Rebuilt(func(id uint32) uint32 { return uint32(s.segs.FileID(id)) })
	}
	b := x.MarshalCheckpoint(index.Watermark{Segment: seg, Offset: end, LastGlobal: s.idx.LastGlobal()})
	return reader.WriteCheckpoint(s.cfg.fs, s.dir, b)
}
