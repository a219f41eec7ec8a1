package batpak

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/subscriber"
)

// releasePayload is the payload of the event with global g: readers check
// every event they get against it, so a frame read from the wrong place
// (a released mapping, a misrouted relocation) cannot pass.
func releasePayload(g uint64) []byte {
	p := bytes.Repeat([]byte{byte(g)}, 300)
	binary.BigEndian.PutUint64(p, g)
	return p
}

// releaseAppend appends n events alternately to the entities k<i%4> (kept
// by every compaction of these tests) and d<i%4> (which compactions
// drop), and returns the receipts.
func releaseAppend(t testing.TB, s *Store, n int) []Receipt {
	t.Helper()
	ctx := context.Background()
	out := make([]Receipt, 0, n)
	for i := range n {
		name := fmt.Sprintf("k%d", i%4)
		if i%2 == 1 {
			name = fmt.Sprintf("d%d", i%4)
		}
		g := s.idx.LastGlobal() + 1 // one appender: the next global is known
		r, err := s.Append(ctx, event.MustCoordinate(name, "s"), compactKind, releasePayload(g))
		if err != nil {
			t.Fatal(err)
		}
		if r.Global != g {
			t.Fatalf("appended global %d, expected %d", r.Global, g)
		}
		out = append(out, r)
	}
	return out
}

func isDropEntity(ev *StoredEvent) bool { return ev.Coordinate.Entity()[0] == 'd' }

// TestCompactReleasesReplacedSegments checks that the segments a
// compaction replaces are closed as soon as nothing pins them — not at
// Close — and that index entries taken before the compaction still read
// their events afterwards, through the index, or learn they were dropped.
func TestCompactReleasesReplacedSegments(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), WithSegmentSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	receipts := releaseAppend(t, s, 600)
	var stale []index.Entry
	for e := range s.idx.Query(event.AllEvents(), 0) {
		stale = append(stale, e)
	}
	if len(stale) != len(receipts) {
		t.Fatalf("%d entries for %d events", len(stale), len(receipts))
	}
	live := s.segs.Live()
	if len(live) < 4 {
		t.Fatalf("only %d segments: the test needs several sealed ones", len(live))
	}
	// A View standing for a reader inside a segment's bytes: the segment
	// must outlive the compaction until it is released.
	pinned, release, err := s.segs.View(uint64(live[0].ID))
	if err != nil {
		t.Fatal(err)
	}
	const cut = 300 // events of d* at or below it are dropped
	rep, err := s.Compact(ctx, CompactOptions{
		Retain:     func(ev *StoredEvent) bool { return !isDropEntity(ev) || ev.Global > cut },
		TargetSize: 1 << 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.SegmentsRemoved < 2 || rep.EventsDropped != cut/2 {
		t.Fatalf("report %+v", rep)
	}
	d := s.Diagnostics()
	if d.RetiredSegments != 1 || d.OpenSegments != d.Segments+1 {
		t.Fatalf("while pinned: %d retired, %d open, %d live", d.RetiredSegments, d.OpenSegments, d.Segments)
	}
	if _, err := segment.DecodeHeader(pinned[:segment.HeaderSize]); err != nil {
		t.Fatalf("pinned mapping unreadable: %v", err)
	}
	release()
	d = s.Diagnostics()
	if d.RetiredSegments != 0 || d.OpenSegments != d.Segments {
		t.Fatalf("after release: %d retired, %d open, %d live", d.RetiredSegments, d.OpenSegments, d.Segments)
	}

	// The stale entries name closed segments: a raw read says so.
	buf := make([]byte, stale[0].Size)
	if err := s.segs.ReadAt(uint64(stale[0].Segment), buf, int64(stale[0].Offset)); !errors.Is(err, reader.ErrSegmentRetired) {
		t.Fatalf("raw read of a retired segment: %v", err)
	}
	dropped := func(e index.Entry) bool {
		return e.Global <= cut && s.idx.EntityName(e.Entity)[0] == 'd'
	}
	var kept []index.Entry
	for _, e := range stale {
		ev, err := s.readEntry(e)
		if dropped(e) {
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("event %d was dropped: read gave %v", e.Global, err)
			}
			continue
		}
		kept = append(kept, e)
		if err != nil {
			t.Fatalf("event %d: %v", e.Global, err)
		}
		fresh, err := s.Get(ctx, ev.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Global != e.Global || !bytes.Equal(ev.Payload, releasePayload(e.Global)) || ev.Hash != fresh.Hash {
			t.Fatalf("event %d read through a stale entry differs: %+v vs %+v", e.Global, ev.Header, fresh.Header)
		}
	}

	// A run reader's block of stale entries (queries) reports the dropped
	// events as nil and reads the others where they moved.
	rr := s.segs.Runs(s.idx)
	defer rr.Release()
	got := make([]*StoredEvent, len(stale))
	n, err := rr.Fill(stale, got)
	if err != nil || n != len(stale) {
		t.Fatalf("block read %d of %d: %v", n, len(stale), err)
	}
	var filled []index.Entry
	for i, ev := range got {
		if ev == nil {
			if !dropped(stale[i]) {
				t.Fatalf("event %d reported dropped", stale[i].Global)
			}
			continue
		}
		filled = append(filled, stale[i])
		if ev.Global != stale[i].Global || !bytes.Equal(ev.Payload, releasePayload(ev.Global)) {
			t.Fatalf("block event %d: got event %d", stale[i].Global, ev.Global)
		}
	}
	if len(filled) != len(kept) {
		t.Fatalf("block read %d events, %d were kept", len(filled), len(kept))
	}

	// Reading one event at a time (projections) skips the dropped ones.
	var each []uint64
	if err := rr.Each(stale[:40], func(ev *StoredEvent) error {
		if !bytes.Equal(ev.Payload, releasePayload(ev.Global)) {
			return fmt.Errorf("event %d has another's payload", ev.Global)
		}
		each = append(each, ev.Global)
		return nil
	}); err != nil || len(each) != 20 {
		t.Fatalf("run read: %d events, %v", len(each), err)
	}
	for i, g := range each {
		if g != kept[i].Global {
			t.Fatalf("run read event %d is %d, want %d", i, g, kept[i].Global)
		}
	}
	// Cursors get the kept events, and for a dropped one an error that
	// makes them take fresh entries.
	dst := make([]*event.StoredEvent, 2)
	if err := s.loadEntries(kept[:2], dst); err != nil || dst[0].Global != kept[0].Global || dst[1].Global != kept[1].Global {
		t.Fatalf("cursor load of kept events: %v", err)
	}
	if err := s.loadEntries(stale[:2], dst); !errors.Is(err, reader.ErrEventDropped) || !errors.Is(err, subscriber.ErrStale) {
		t.Fatalf("cursor load of a dropped event: %v", err)
	}
}

// TestCompactConcurrentReads runs queries, Gets, entity streams,
// projection scans and cursors while compactions run again and again
// (dropping some events each time) and appends continue, and checks every
// result: readers holding entries of segments that a compaction retired
// under them must still get the right events, with none of the always-kept
// ones missing. Run it under -race.
func TestCompactConcurrentReads(t *testing.T) {
	for _, budget := range []int{0, 2} {
		t.Run(fmt.Sprintf("budget=%d", budget), func(t *testing.T) {
			opts := []Option{WithSegmentSize(64 << 10)}
			if budget > 0 {
				opts = append(opts, WithMaxOpenSegments(budget))
			}
			s, err := Open(t.TempDir(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			concurrentCompactions(t, s)
		})
	}
}

func concurrentCompactions(t *testing.T, s *Store) {
	const initial, rounds, perRound = 600, 5, 170
	receipts := releaseAppend(t, s, initial)
	var keepIDs, dropIDs []ID
	keepPerEntity := map[string]int{}
	for i, r := range receipts {
		if i%2 == 0 {
			keepIDs = append(keepIDs, r.ID)
			keepPerEntity[r.Coordinate.Entity()]++
		} else {
			dropIDs = append(dropIDs, r.ID)
		}
	}
	ctx := context.Background()
	done := make(chan struct{})
	errc := make(chan error, 16)
	report := func(err error) {
		select {
		case errc <- err:
		default:
		}
	}
	readers := []func(int) error{
		// Every query sees each always-kept initial event exactly once, in
		// global order, with its payload.
		func(int) error {
			var last uint64
			keeps := 0
			for ev, err := range s.Query(ctx, event.AllEvents()) {
				if err != nil {
					return err
				}
				if ev.Global <= last || !bytes.Equal(ev.Payload, releasePayload(ev.Global)) {
					return fmt.Errorf("query: event %d after %d, payload ok %v", ev.Global, last, bytes.Equal(ev.Payload, releasePayload(ev.Global)))
				}
				last = ev.Global
				if ev.Global <= initial && !isDropEntity(ev) {
					keeps++
				}
			}
			if keeps != len(keepIDs) {
				return fmt.Errorf("query saw %d of the %d kept events", keeps, len(keepIDs))
			}
			return nil
		},
		// Gets: a kept event is always found; a droppable one is found
		// intact or not at all.
		func(i int) error {
			id := keepIDs[(i*7)%len(keepIDs)]
			ev, err := s.Get(ctx, id)
			if err != nil || ev.ID != id || !bytes.Equal(ev.Payload, releasePayload(ev.Global)) {
				return fmt.Errorf("get of kept %v: %v", id, err)
			}
			id = dropIDs[(i*5)%len(dropIDs)]
			ev, err = s.Get(ctx, id)
			if err != nil && !errors.Is(err, ErrNotFound) || err == nil && (ev.ID != id || !bytes.Equal(ev.Payload, releasePayload(ev.Global))) {
				return fmt.Errorf("get of droppable %v: %v", id, err)
			}
			return nil
		},
		// An entity stream is whole and its chain links.
		func(i int) error {
			entity := fmt.Sprintf("k%d", 2*(i%2))
			var prev *StoredEvent
			n := 0
			for ev, err := range s.Stream(ctx, entity) {
				if err != nil {
					return err
				}
				if prev != nil && (ev.Sequence != prev.Sequence+1 || ev.Hash.Prev != prev.Hash.Self) {
					return fmt.Errorf("stream %s: seq %d after %d, linked %v", entity, ev.Sequence, prev.Sequence, ev.Hash.Prev == prev.Hash.Self)
				}
				prev, n = ev, n+1
			}
			if n < keepPerEntity[entity] {
				return fmt.Errorf("stream %s: %d events, at least %d expected", entity, n, keepPerEntity[entity])
			}
			return nil
		},
		// A projection's scan of the kept entities.
		func(int) error {
			n := 0
			var last uint64
			err := s.ProjectionLog().Scan(ctx, event.AllEvents().WithEntityPrefix("k"), 0, initial, func(ev *event.StoredEvent) error {
				if ev.Global <= last || !bytes.Equal(ev.Payload, releasePayload(ev.Global)) {
					return fmt.Errorf("scan: event %d after %d", ev.Global, last)
				}
				last, n = ev.Global, n+1
				return nil
			})
			if err == nil && n != len(keepIDs) {
				err = fmt.Errorf("scan saw %d of %d kept events", n, len(keepIDs))
			}
			return err
		},
		// A cursor over every event, from the start: it sees each kept
		// initial event once, in order (dropped ones it may or may not).
		func(int) error {
			c, err := s.Cursor(event.AllEvents(), 0)
			if err != nil {
				return err
			}
			defer c.Close()
			var last uint64
			keeps := 0
			for last < initial {
				evs, err := c.NextBatch(ctx, 16)
				if err != nil {
					return err
				}
				for _, ev := range evs {
					if ev.Global <= last || !bytes.Equal(ev.Payload, releasePayload(ev.Global)) {
						return fmt.Errorf("cursor: event %d after %d", ev.Global, last)
					}
					last = ev.Global
					if ev.Global <= initial && !isDropEntity(ev) {
						keeps++
					}
				}
			}
			if keeps != len(keepIDs) {
				return fmt.Errorf("cursor saw %d of the %d kept events", keeps, len(keepIDs))
			}
			return nil
		},
	}
	finished := make(chan struct{}, len(readers))
	for _, read := range readers {
		go func() {
			defer func() { finished <- struct{}{} }()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				if err := read(i); err != nil {
					report(err)
					return
				}
			}
		}()
	}
	for round := range rounds {
		releaseAppend(t, s, perRound)
		_, err := s.Compact(ctx, CompactOptions{
			// Each round drops a little more of the d* events.
			Retain:     func(ev *StoredEvent) bool { return !isDropEntity(ev) || ev.Global%rounds > uint64(round) },
			TargetSize: 128 << 10,
		})
		if err != nil {
			report(err)
			break
		}
	}
	close(done)
	for range readers {
		<-finished
	}
	select {
	case err := <-errc:
		t.Fatal(err)
	default:
	}
	// Once the compactions and their readers are done, no replaced segment
	// is open.
	if d := s.Diagnostics(); d.RetiredSegments != 0 || d.OpenSegments > d.Segments {
		t.Fatalf("after the compactions: %d retired, %d open, %d live", d.RetiredSegments, d.OpenSegments, d.Segments)
	}
}
