package reliability_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/vfs"
)

// TestReliabilityDamagedHeaderOfTheLastSegment: a last segment whose
// header fails its CRC is what a crash during its creation leaves only if
// nothing follows the header; with frames after it, it is damage to synced
// events and must be reported (C3), not removed as an unfinished create
// (found by the long-mode random bit flips).
func TestReliabilityDamagedHeaderOfTheLastSegment(t *testing.T) {
	mem := vfs.NewMem()
	s := openMem(t, mem, batpak.WithSegmentSize(64<<10))
	for i := range 30 { // three segments
		mustAppend(t, s, coord(t, "a", "s"), kindMoved, batchMark{Batch: -1, Of: 1, Item: i, Pad: make([]byte, 6000)})
	}
	closeStore(t, s)
	segs := segmentFiles(t, mem, memDir)
	last := filepath.Join(memDir, segs[len(segs)-1])
	data := readFile(t, mem, last)

	t.Run("WithFrames", func(t *testing.T) {
		img := mem.CrashClone(vfs.CrashOptions{})
		d := append([]byte(nil), data...)
		d[28] ^= 0x01 // the creation time, inside the header's CRC
		writeFile(t, img, last, d)
		_ = img.Remove(filepath.Join(memDir, "CHECKPOINT")) // Open must scan
		s, err := tryOpen(memDir, batpak.WithFS(img))
		if err == nil {
			n := len(all(t, s))
			_ = s.Close()
			t.Fatalf("Open accepted the store with %d events; want a *CorruptionError", n)
		}
		if !errors.Is(err, batpak.ErrCorrupt) {
			t.Fatalf("Open: %v; want a *CorruptionError", err)
		}
		names, _ := img.List(memDir)
		if len(segmentFiles(t, img, memDir)) != len(segs) {
			t.Fatalf("a segment was removed: %v", names)
		}
	})
	t.Run("HeaderOnly", func(t *testing.T) {
		img := mem.CrashClone(vfs.CrashOptions{})
		// A crash while creating segment n+1: its header torn, nothing after.
		next := filepath.Join(memDir, segmentName(len(segs)+1))
		hdr := append([]byte(nil), data[:48]...)
		hdr[20] ^= 0x40
		f, err := img.Create(next)
		if err == nil {
			_, err = f.WriteAt(append(hdr, make([]byte, 100)...), 0)
		}
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		s, err = tryOpen(memDir, batpak.WithFS(img))
		if err != nil {
			t.Fatalf("Open after a crash during a segment's creation: %v", err)
		}
		if got := len(all(t, s)); got != 30 {
			t.Fatalf("%d events, want 30", got)
		}
		closeStore(t, s)
		if len(segmentFiles(t, img, memDir)) != len(segs) {
			t.Fatal("the half-created segment was not removed")
		}
	})
}

func segmentName(id int) string {
	const hex = "0123456789abcdef"
	b := []byte("0000000000000000.seg")
	for i := 15; id > 0; i-- {
		b[i] = hex[id%16]
		id /= 16
	}
	return string(b)
}
