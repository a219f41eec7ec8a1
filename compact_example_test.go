package batpak_test

import (
	"context"
	"fmt"
	"log"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// Compact drops what a retention rule rejects — here every "debug" event —
// from the sealed segments, and merges the small ones, while the store
// stays open. Kept events keep their ids and sequences.
func ExampleStore_Compact() {
	dir, cleanup := exampleDir()
	defer cleanup()
	ctx := context.Background()
	store, err := batpak.Open(dir, batpak.WithSegmentSize(64<<10))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	debug := event.MustCustom(0x2, 0x001)
	payload := make([]byte, 1000)
	for i := range 300 {
		kind := moved
		if i%3 != 0 {
			kind = debug
		}
		if _, err := store.Append(ctx, event.MustCoordinate("player:1", "room:1"), kind, payload); err != nil {
			log.Fatal(err)
		}
	}
	rep, err := store.Compact(ctx, batpak.CompactOptions{
		Retain:     func(ev *batpak.StoredEvent) bool { return ev.Kind != debug },
		TargetSize: 1 << 20,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("dropped some: %v, merged: %v\n", rep.EventsDropped > 0, rep.SegmentsRemoved > rep.SegmentsWritten)
	check, err := store.Verify(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("verifies:", check.OK())
	// Output:
	// dropped some: true, merged: true
	// verifies: true
}

// Tombstone keeps events in place but drops their payloads: here a
// player's personal data, erased on request while the history of moves
// around it stays whole and verifiable.
func ExampleStore_Compact_tombstone() {
	dir, cleanup := exampleDir()
	defer cleanup()
	ctx := context.Background()
	store, err := batpak.Open(dir, batpak.WithSegmentSize(64<<10))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	profile := event.MustCustom(0x2, 0x002)
	payload := make([]byte, 1000)
	var first batpak.Receipt
	for i := range 200 {
		kind := moved
		if i%10 == 0 {
			kind = profile
		}
		r, err := store.Append(ctx, event.MustCoordinate("player:1", "room:1"), kind, payload)
		if err != nil {
			log.Fatal(err)
		}
		if i == 0 {
			first = r
		}
	}
	rep, err := store.Compact(ctx, batpak.CompactOptions{
		Tombstone: func(ev *batpak.StoredEvent) bool { return ev.Kind == profile },
	})
	if err != nil {
		log.Fatal(err)
	}
	ev, err := store.Get(ctx, first.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("tombstoned some: %v, dropped: %d\n", rep.Tombstoned > 0, rep.EventsDropped)
	fmt.Printf("first event: tombstone %v, sequence %d, payload %d bytes\n",
		ev.Kind == event.KindTombstone, ev.Sequence, len(ev.Payload))
	check, err := store.Verify(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("verifies:", check.OK(), "tombstones accepted:", check.Tombstones == rep.Tombstoned)
	// Output:
	// tombstoned some: true, dropped: 0
	// first event: tombstone true, sequence 0, payload 0 bytes
	// verifies: true tombstones accepted: true
}

// Diagnostics adds to Stats what an operator looks at: the log's bytes,
// queues, drops, restarts and the last compaction.
func ExampleStore_Diagnostics() {
	dir, cleanup := exampleDir()
	defer cleanup()
	store, err := batpak.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Append(context.Background(), event.MustCoordinate("player:1", "room:1"), moved, Move{From: "a", To: "b"}); err != nil {
		log.Fatal(err)
	}
	d := store.Diagnostics()
	fmt.Println("events:", d.Events, "segments:", d.Segments, "bytes > 0:", d.Bytes > 0, "compacted:", d.LastCompaction != nil)
	// Output:
	// events: 1 segments: 1 bytes > 0: true compacted: false
}

// WithMaxOpenSegments bounds the sealed segments kept open and mapped:
// reads reopen the ones closed, transparently.
func ExampleWithMaxOpenSegments() {
	dir, cleanup := exampleDir()
	defer cleanup()
	ctx := context.Background()
	store, err := batpak.Open(dir, batpak.WithSegmentSize(64<<10), batpak.WithMaxOpenSegments(2))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	var first batpak.ID
	for i := range 400 {
		r, err := store.Append(ctx, event.MustCoordinate("player:1", "room:1"), moved, make([]byte, 1000))
		if err != nil {
			log.Fatal(err)
		}
		if i == 0 {
			first = r.ID
		}
	}
	ev, err := store.Get(ctx, first) // its segment may have been closed: it is reopened
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("read back:", ev.Sequence, "segments:", store.Stats().Segments > 2)
	// Output:
	// read back: 0 segments: true
}
