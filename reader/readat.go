package reader

import "fmt"

// ReadAt reads len(p) bytes at offset off of segment id into p. It lets a
// caller that visits many adjacent frames (a projection replaying an entity
// stream) read them with one call and check each frame itself with
// segment.ReadFrame; Read remains the way to read one event.
func (s *Segments) ReadAt(id uint64, p []byte, off int64) error {
	f, err := s.file(id)
	if err != nil {
		return err
	}
	if _, err := f.ReadAt(p, off); err != nil {
		return fmt.Errorf("batpak: reading segment %016x at %d: %w", id, off, err)
	}
	return nil
}
