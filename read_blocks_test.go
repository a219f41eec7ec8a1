package batpak_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/vfs"
)

// Queries read in blocks: a block may span segments, hold frames larger
// than a block's byte bound, and be left early; every event still comes
// back whole, in order, with its chain link.
func TestQueryBlocksSpanSegmentsAndLargeFrames(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir(), batpak.WithSegmentSize(1<<20))
	defer closeStore(t, s)
	kind := event.MustCustom(1, 1)
	big := bytes.Repeat([]byte("x"), 300<<10) // above a block's byte bound
	var want [][]byte
	for i := range 300 {
		p := []byte(fmt.Sprintf("event %d", i))
		if i%37 == 5 {
			p = append(append([]byte(nil), big...), p...)
		}
		mustAppend(t, s, coord(t, fmt.Sprintf("e%d", i%3), "room"), kind, p)
		want = append(want, p)
	}
	if s.Stats().Segments < 3 {
		t.Fatalf("want several segments, have %d", s.Stats().Segments)
	}
	evs := collect(t, s.Query(ctx, batpak.Region{}))
	if len(evs) != len(want) {
		t.Fatalf("query read %d events, want %d", len(evs), len(want))
	}
	for i, ev := range evs {
		if ev.Global != uint64(i+1) || !bytes.Equal(ev.Payload, want[i]) {
			t.Fatalf("event %d: global %d, payload of %d bytes", i, ev.Global, len(ev.Payload))
		}
	}
	stream := collect(t, s.Stream(ctx, "e1"))
	for i := 1; i < len(stream); i++ {
		if stream[i].Hash.Prev != stream[i-1].Hash.Self || stream[i].Sequence != uint64(i) {
			t.Fatalf("stream event %d: sequence %d, not linked to its predecessor", i, stream[i].Sequence)
		}
	}
	// Leaving early, at any point of a block, is allowed.
	for _, stop := range []int{1, 8, 9, 100} {
		n := 0
		for _, err := range s.Query(ctx, batpak.Region{}) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == stop {
				break
			}
		}
		if n != stop {
			t.Fatalf("stopped after %d events, want %d", n, stop)
		}
	}
}

// A frame damaged on disk fails its CRC when read: a query yields every
// event before it, then a *CorruptionError, and stops.
func TestQueryYieldsEventsBeforeDamageThenCorruption(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, dir)
	kind := event.MustCustom(1, 1)
	for i := range 100 {
		mustAppend(t, s, coord(t, "e", "room"), kind, []byte(fmt.Sprintf("payload-%03d", i)))
	}
	closeStore(t, s) // writes the checkpoint: the reopen does not scan the damage
	seg := filepath.Join(dir, segmentFiles(t, vfs.OS, dir)[0])
	data, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(data, []byte("payload-050"))
	if at < 0 {
		t.Fatal("payload 50 not found in the segment")
	}
	data[at+len("payload-0")] ^= 0x01
	if err := os.WriteFile(seg, data, 0o644); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	defer closeStore(t, s)
	if !s.Stats().Recovery.Checkpoint {
		t.Fatalf("the reopen did not use the checkpoint: %s", s.Stats().Recovery)
	}
	for name, seq := range map[string]func() func(func(*batpak.StoredEvent, error) bool){
		"query":  func() func(func(*batpak.StoredEvent, error) bool) { return s.Query(ctx, batpak.Region{}) },
		"stream": func() func(func(*batpak.StoredEvent, error) bool) { return s.Stream(ctx, "e") },
	} {
		n := 0
		var last error
		for ev, err := range seq() {
			if err != nil {
				last = err
				continue
			}
			if last != nil {
				t.Fatalf("%s: an event after the error", name)
			}
			if want := fmt.Sprintf("payload-%03d", n); string(ev.Payload) != want {
				t.Fatalf("%s: event %d has payload %q", name, n, ev.Payload)
			}
			n++
		}
		var ce *batpak.CorruptionError
		if n != 50 || !errors.As(last, &ce) {
			t.Fatalf("%s: %d events, then %v; want 50 events, then a corruption error", name, n, last)
		}
	}
}
