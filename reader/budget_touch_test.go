package reader

import (
	"path/filepath"
	"testing"

	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// TestCopyBlockKeepsSegmentRecent: a segment read only by query blocks
// (copyBlock) counts as recently read, so the budget evicts another one.
func TestCopyBlockKeepsSegmentRecent(t *testing.T) {
	fs, dir := vfs.NewMem(), "/seg"
	if err := fs.MkdirAll(dir); err != nil {
		t.Fatal(err)
	}
	s := NewSegments()
	defer s.Close()
	for id := uint64(1); id <= 4; id++ {
		f, err := fs.Create(filepath.Join(dir, segment.FileName(id)))
		if err != nil {
			t.Fatal(err)
		}
		h := segment.EncodeHeader(segment.Header{ID: id, Created: int64(id)})
		if _, err := f.WriteAt(append(h[:], make([]byte, 64)...), 0); err != nil {
			t.Fatal(err)
		}
		s.Add(id, f)
	}
	open := func(id uint64) bool {
		s.mu.RLock()
		defer s.mu.RUnlock()
		return s.files[id].f != nil
	}
	// Budget 2 (segment 4, the newest, is never closed): 1 goes.
	s.SetBudget(fs, dir, 2, nil)
	buf := make([]byte, 8)
	// Reopening 1 starts epoch 1 and closes 2, the oldest of 1, 2, 3.
	if err := s.ReadAt(1, buf, segment.HeaderSize); err != nil {
		t.Fatal(err)
	}
	if open(2) || !open(1) || !open(3) {
		t.Fatalf("after reopening 1: open 1 %v, 2 %v, 3 %v", open(1), open(2), open(3))
	}
	// Segment 3 is read through a block only, in epoch 1.
	s.copyBlock([]index.Entry{{Segment: 3, Offset: segment.HeaderSize, Size: 8}}, buf)
	// Reopening 2 must close 1 (the lower id of the two read in epoch 1),
	// not 3, which copyBlock stamped as read in epoch 1.
	if err := s.ReadAt(2, buf, segment.HeaderSize); err != nil {
		t.Fatal(err)
	}
	if !open(3) || open(1) {
		t.Fatalf("after reopening 2: segment 3 (read by block) open %v, segment 1 open %v", open(3), open(1))
	}
}
