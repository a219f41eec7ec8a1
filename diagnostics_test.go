package batpak

import (
	"bytes"
	"context"
	"testing"

	"github.com/batpak-go/batpak/event"
)

func TestDiagnosticsCountsTheLogCompactionAndDrops(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), WithSegmentSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sub, err := s.Subscribe(event.AllEvents(), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for range 400 {
		if _, err := s.Append(ctx, event.MustCoordinate("a", "s"), compactKind, bytes.Repeat([]byte{1}, 400)); err != nil {
			t.Fatal(err)
		}
	}
	d := s.Diagnostics()
	if d.Events != 400 || d.Segments < 3 || d.Bytes < 400*400 || d.LastCompaction != nil || d.ReadOnly {
		t.Fatalf("before compaction: %+v", d)
	}
	// Nobody reads the subscription of capacity 1: it must have dropped.
	if d.LossySubscriptions != 1 || d.Dropped == 0 {
		t.Fatalf("lossy subscriptions %d, dropped %d", d.LossySubscriptions, d.Dropped)
	}
	if _, err := s.Compact(ctx, CompactOptions{
		Retain: func(ev *StoredEvent) bool { return ev.Global > 200 }, TargetSize: 1 << 20,
	}); err != nil {
		t.Fatal(err)
	}
	after := s.Diagnostics()
	c := after.LastCompaction
	if c == nil || c.EventsDropped == 0 || after.Events != 400-c.EventsDropped || after.Bytes >= d.Bytes {
		t.Fatalf("after compaction: %+v, report %+v", after, c)
	}
	// The replaced segments are closed once Compact returns, not at Close.
	if after.RetiredSegments != 0 || after.Segments != d.Segments-c.SegmentsRemoved+c.SegmentsWritten ||
		after.OpenSegments != after.Segments {
		t.Fatalf("segments: %d live, %d retired, %d open; before %d; report %+v", after.Segments, after.RetiredSegments, after.OpenSegments, d.Segments, c)
	}
}
