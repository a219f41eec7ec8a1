package reliability_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// TestFooterRebuildEqualsScan: the index rebuilt from sealed segments'
// footers equals the one a scan of their frames builds, after a workload
// with batches, idempotency keys, rotations and a compaction.
func TestFooterRebuildEqualsScan(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := batpak.Open(dir, batpak.WithSegmentSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	mixedCompactWorkload(t, s, "a", 500)
	if _, err := s.Compact(ctx, batpak.CompactOptions{Retain: mixedRetain, TargetSize: 128 << 10}); err != nil {
		t.Fatal(err)
	}
	mixedCompactWorkload(t, s, "b", 500)
	// Reactions: events whose correlation is another event's, which the
	// index keeps by correlation (read from the frame, not the footer).
	var root batpak.ID
	for i := range 300 {
		r, err := s.AppendReaction(ctx, event.MustCoordinate(fmt.Sprintf("r%d", i%4), "s"), compactKind,
			make([]byte, 300), root, root)
		if err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			root = r.ID
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := batpak.VerifyDir(ctx, dir, nil)
	if err != nil || !rep.OK() || rep.Footers == 0 {
		t.Fatalf("verify: %v %v, %d footers checked", err, rep.Problem, rep.Footers)
	}
	if err := os.Remove(filepath.Join(dir, reader.CheckpointFile)); err != nil {
		t.Fatal(err)
	}
	correlated := func() int {
		// The index a reopening builds, on a copy (see reopenView).
		rec, err := recoverIndex(t, vfs.OS, copyDir(t, dir))
		if err != nil {
			t.Fatal(err)
		}
		return rec.Index.CorrelatedCount()
	}
	withFooters := correlated()
	fromFooters, rec := reopenView(t, dir)
	if rec.Footers == 0 || rec.Checkpoint {
		t.Fatalf("footers not used: %s (%d used)", rec, rec.Footers)
	}
	// Cut every footer off: the same index must come from the frames.
	names, _ := os.ReadDir(dir)
	stripped := 0
	for _, n := range names {
		path := filepath.Join(dir, n.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if f, err := segment.DecodeFooter(data); err == nil {
			if err := os.Truncate(path, f.At); err != nil {
				t.Fatal(err)
			}
			stripped++
		}
	}
	os.Remove(filepath.Join(dir, reader.CheckpointFile))
	if n := correlated(); n != withFooters || n == 0 {
		t.Fatalf("correlated events: %d from the footers, %d from the frames", withFooters, n)
	}
	fromScan, rec := reopenView(t, dir)
	if rec.Footers != 0 || stripped == 0 {
		t.Fatalf("after stripping %d footers, %d still used", stripped, rec.Footers)
	}
	if !reflect.DeepEqual(fromFooters, fromScan) {
		t.Fatal("the index from the footers differs from the scan's")
	}
}

// TestDamagedFooterIsCorruption: a footer is part of a sealed segment, so
// damage to it is reported like damage to a frame, never trusted.
func TestDamagedFooterIsCorruption(t *testing.T) {
	dir := t.TempDir()
	s, err := batpak.Open(dir, batpak.WithSegmentSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	mixedCompactWorkload(t, s, "a", 300)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, reader.CheckpointFile))
	path := filepath.Join(dir, segment.FileName(1))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := segment.DecodeFooter(data)
	if err != nil {
		t.Fatal(err)
	}
	data[f.At+20] ^= 1
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err = batpak.Open(dir)
	if err == nil {
		s.Close()
		t.Fatal("a store with a damaged footer opened")
	}
	var ce *batpak.CorruptionError
	if !errors.As(err, &ce) || ce.Segment != 1 || ce.Offset != f.At {
		t.Fatalf("Open: %v, want corruption of segment 1 at %d", err, f.At)
	}
}
