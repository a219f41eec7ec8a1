package batpak

import (
	"context"
	"errors"
	"testing"

	"github.com/batpak-go/batpak/event"
)

// TestReadOnlyFollowsWriter: a read-only store opened beside a writing one
// sees the writer's events, including new segments, after Refresh.
func TestReadOnlyFollowsWriter(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	w, err := Open(dir, WithSegmentSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	c := event.MustCoordinate("player:1", "room:1")
	k := event.MustCustom(1, 1)
	for i := 0; i < 10; i++ {
		if _, err := w.Append(ctx, c, k, i); err != nil {
			t.Fatal(err)
		}
	}
	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if n := ro.Stats().Events; n != 10 {
		t.Fatalf("read-only open saw %d events", n)
	}
	if _, err := ro.Append(ctx, c, k, 1); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("append on read-only: %v", err)
	}
	if _, err := ro.Cursor(event.AllEvents(), 0); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("cursor on read-only: %v", err)
	}
	if _, err := ro.Subscribe(event.AllEvents(), 8); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("subscription on read-only: %v", err)
	}
	if err := ro.WaitVisible(ctx, 1); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("WaitVisible on read-only: %v", err)
	}
	payload := make([]byte, 2000) // enough to rotate segments several times
	var last Receipt
	for i := 0; i < 100; i++ {
		if last, err = w.Append(ctx, c, k, payload); err != nil {
			t.Fatal(err)
		}
	}
	n, err := ro.Refresh(ctx)
	if err != nil || n != 100 || ro.Stats().Segments < 3 {
		t.Fatalf("refresh: %d new, %v, %d segments", n, err, ro.Stats().Segments)
	}
	ev, err := ro.Get(ctx, last.ID)
	if err != nil || ev.Sequence != 109 {
		t.Fatalf("get through read-only: %v", err)
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ro.Refresh(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("refresh after close: %v", err)
	}
}

// TestReadOnlyShowsOnlyDurableEvents: a follower in another "process"
// never shows an event the writer has not fsynced (no ghost reads across
// processes either): on-write appends appear only after the writer syncs.
func TestReadOnlyShowsOnlyDurableEvents(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	w, err := Open(dir, WithDurability(OnWrite), WithSyncEvery(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	c := event.MustCoordinate("player:1", "room:1")
	k := event.MustCustom(1, 1)
	for i := 0; i < 10; i++ {
		if _, err := w.Append(ctx, c, k, i); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := ro.Refresh(ctx); err != nil || n != 0 {
		t.Fatalf("follower showed %d unsynced events (%v)", n, err)
	}
	if err := w.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := ro.Refresh(ctx); err != nil || n != 10 {
		t.Fatalf("after Sync the follower shows %d of 10 (%v)", n, err)
	}
}
