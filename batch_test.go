package batpak_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/vfs"
	"github.com/stretchr/testify/require"
)

// Atomic batches: order, intra-batch causes and expectations, rejection
// of the whole batch, limits, idempotent retries and visibility to
// readers. Crashes in the middle of a commit are enumerated in
// internal/reliability.

func TestAppendBatchReturnsReceiptsInItemOrder(t *testing.T) {
	s := openStore(t, t.TempDir())
	pre := mustAppend(t, s, coord(t, "a", "s"), kindMoved, payload{N: -1})
	items := []batpak.BatchItem{
		{Coord: coord(t, "a", "s"), Kind: kindMoved, Payload: payload{N: 0}},
		{Coord: coord(t, "b", "s"), Kind: kindSpoke, Payload: payload{N: 1}},
		{Coord: coord(t, "a", "t"), Kind: kindSpoke, Payload: payload{N: 2}, Options: batpak.AppendOptions{Flags: 7}},
		{Coord: coord(t, "c", "t"), Kind: kindMoved, Payload: []byte("raw")},
	}
	rs, err := s.AppendBatch(bg, items)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != len(items) {
		t.Fatalf("%d receipts for %d items", len(rs), len(items))
	}
	wantSeq := []uint64{1, 0, 2, 0}
	for i, r := range rs {
		if r.Global != pre.Global+1+uint64(i) || r.Sequence != wantSeq[i] || r.Coordinate != items[i].Coord || r.Kind != items[i].Kind || r.Replayed {
			t.Fatalf("receipt %d: %+v", i, r)
		}
	}
	evs := all(t, s)[1:]
	for i, ev := range evs {
		if !receiptMatches(rs[i], ev) {
			t.Fatalf("event %d differs from receipt %d", i, i)
		}
	}
	if p, err := batpak.Decode[payload](evs[1]); err != nil || p.N != 1 {
		t.Fatalf("item 1 payload %+v, %v", p, err)
	}
	if evs[2].Flags != 7 || string(evs[3].Payload) != "raw" {
		t.Fatal("item options or raw payload lost")
	}
	checkLog(t, s, all(t, s), true)
}

func TestBatchCausesResolveToTheRightEvents(t *testing.T) {
	s := openStore(t, t.TempDir())
	outside := mustAppend(t, s, coord(t, "x", "s"), kindMoved, payload{})
	explicit := mustAppend(t, s, coord(t, "y", "s"), kindMoved, payload{})
	items := []batpak.BatchItem{
		0: {Coord: coord(t, "a", "s"), Kind: kindMoved, Payload: payload{N: 0}},
		1: {Coord: coord(t, "b", "s"), Kind: kindMoved, Payload: payload{N: 1}, Cause: batpak.CauseItem(0)},
		2: {Coord: coord(t, "a", "s"), Kind: kindMoved, Payload: payload{N: 2}},
		3: {Coord: coord(t, "c", "s"), Kind: kindMoved, Payload: payload{N: 3}, Cause: batpak.CauseLatestOf("a")},
		4: {Coord: coord(t, "d", "s"), Kind: kindMoved, Payload: payload{N: 4}, Cause: batpak.CauseID(outside.ID)},
		5: {Coord: coord(t, "e", "s"), Kind: kindMoved, Payload: payload{N: 5}, Options: batpak.AppendOptions{Causation: explicit.ID}},
		// Cause overrides Options.Causation.
		6: {Coord: coord(t, "f", "s"), Kind: kindMoved, Payload: payload{N: 6}, Cause: batpak.CauseItem(1), Options: batpak.AppendOptions{Causation: explicit.ID}},
		7: {Coord: coord(t, "b", "s"), Kind: kindMoved, Payload: payload{N: 7}, Cause: batpak.CauseLatestOf("b")},
		8: {Coord: coord(t, "g", "s"), Kind: kindMoved, Payload: payload{N: 8}},
	}
	rs, err := s.AppendBatch(bg, items)
	if err != nil {
		t.Fatal(err)
	}
	want := []batpak.ID{{}, rs[0].ID, {}, rs[2].ID, outside.ID, explicit.ID, rs[1].ID, rs[1].ID, {}}
	for i, r := range rs {
		if r.Causation != want[i] {
			t.Errorf("item %d: receipt causation %v, want %v", i, r.Causation, want[i])
		}
		ev, err := s.Get(bg, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Causation != want[i] {
			t.Errorf("item %d: stored causation %v, want %v", i, ev.Causation, want[i])
		}
	}

	// AppendReactionBatch fills in correlation and causation where missing.
	rr, err := s.AppendReactionBatch(bg, outside.ID, explicit.ID, []batpak.BatchItem{
		{Coord: coord(t, "h", "s"), Kind: kindMoved, Payload: payload{}},
		{Coord: coord(t, "h", "s"), Kind: kindMoved, Payload: payload{}, Cause: batpak.CauseItem(0)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rr[0].Correlation != outside.ID || rr[0].Causation != explicit.ID || rr[1].Correlation != outside.ID || rr[1].Causation != rr[0].ID {
		t.Fatalf("reaction batch: %v/%v and %v/%v", rr[0].Correlation, rr[0].Causation, rr[1].Correlation, rr[1].Causation)
	}
}

func TestBatchExpectedSequencesCountEarlierItems(t *testing.T) {
	s := openStore(t, t.TempDir())
	a := coord(t, "a", "s")
	mustAppend(t, s, a, kindMoved, payload{})
	mustAppend(t, s, a, kindMoved, payload{})

	rs, err := s.AppendBatch(bg, []batpak.BatchItem{
		{Coord: a, Kind: kindMoved, Payload: payload{N: 2}, Options: event.Expect(2)},
		{Coord: coord(t, "new", "s"), Kind: kindMoved, Payload: payload{}, Options: event.Expect(0)},
		{Coord: a, Kind: kindMoved, Payload: payload{N: 3}, Options: event.Expect(3)},
		{Coord: coord(t, "new", "s"), Kind: kindMoved, Payload: payload{}, Options: event.Expect(1)},
	})
	if err != nil {
		t.Fatalf("batch whose expectations count its own earlier items: %v", err)
	}
	if rs[0].Sequence != 2 || rs[2].Sequence != 3 || rs[3].Sequence != 1 {
		t.Fatalf("sequences %d %d %d", rs[0].Sequence, rs[2].Sequence, rs[3].Sequence)
	}
	// Expecting the entity as it was before the batch fails on the second item.
	_, err = s.AppendBatch(bg, []batpak.BatchItem{
		{Coord: a, Kind: kindMoved, Payload: payload{}, Options: event.Expect(4)},
		{Coord: a, Kind: kindMoved, Payload: payload{}, Options: event.Expect(4)},
	})
	var bie *batpak.BatchItemError
	var sm *batpak.SequenceMismatchError
	if !errors.As(err, &bie) || bie.Item != 1 || !errors.As(err, &sm) || *sm != (batpak.SequenceMismatchError{Entity: "a", Expected: 4, Actual: 5}) {
		t.Fatalf("second item expecting the pre-batch sequence: %v", err)
	}
}

func TestFailingItemRejectsTheWholeBatch(t *testing.T) {
	s := openStore(t, t.TempDir(), batpak.WithMaxPayload(1024))
	a, b := coord(t, "a", "s"), coord(t, "b", "s")
	mustAppend(t, s, a, kindMoved, payload{})
	good := func(c batpak.Coordinate) batpak.BatchItem {
		return batpak.BatchItem{Coord: c, Kind: kindMoved, Payload: payload{N: 1}}
	}
	with := func(it batpak.BatchItem, f func(*batpak.BatchItem)) batpak.BatchItem { f(&it); return it }

	for _, tc := range []struct {
		name  string
		items []batpak.BatchItem
		item  int
		is    error
	}{
		{"WrongExpectedSequence", []batpak.BatchItem{good(a), good(b),
			with(good(a), func(it *batpak.BatchItem) { it.Options = event.Expect(1) })}, 2, batpak.ErrSequenceMismatch},
		{"ForwardCause", []batpak.BatchItem{good(a),
			with(good(b), func(it *batpak.BatchItem) { it.Cause = batpak.CauseItem(2) }), good(a)}, 1, batpak.ErrBatchInvalid},
		{"SelfCause", []batpak.BatchItem{good(a),
			with(good(b), func(it *batpak.BatchItem) { it.Cause = batpak.CauseItem(1) })}, 1, batpak.ErrBatchInvalid},
		{"NegativeCause", []batpak.BatchItem{good(a),
			with(good(b), func(it *batpak.BatchItem) { it.Cause = batpak.CauseItem(-1) })}, 1, batpak.ErrBatchInvalid},
		{"CauseLatestOfUnknownEntity", []batpak.BatchItem{
			with(good(b), func(it *batpak.BatchItem) { it.Cause = batpak.CauseLatestOf("nobody") }), good(a)}, 0, batpak.ErrBatchInvalid},
		{"CauseLatestOfLaterItem", []batpak.BatchItem{good(a),
			with(good(b), func(it *batpak.BatchItem) { it.Cause = batpak.CauseLatestOf("c") }), good(coord(t, "c", "s"))}, 1, batpak.ErrBatchInvalid},
		{"ZeroExplicitCause", []batpak.BatchItem{good(a),
			with(good(b), func(it *batpak.BatchItem) { it.Cause = batpak.CauseID(batpak.ID{}) })}, 1, batpak.ErrBatchInvalid},
		{"InvalidCoordinate", []batpak.BatchItem{good(a), good(b), {Kind: kindMoved, Payload: payload{}}}, 2, batpak.ErrInvalidCoordinate},
		{"ReservedKind", []batpak.BatchItem{good(a), with(good(b), func(it *batpak.BatchItem) { it.Kind = 0x0123 })}, 1, batpak.ErrInvalidKind},
		{"PayloadTooLarge", []batpak.BatchItem{good(a), with(good(b), func(it *batpak.BatchItem) { it.Payload = make([]byte, 1025) })}, 1, batpak.ErrPayloadTooLarge},
		{"KeyRepeatedInBatch", []batpak.BatchItem{
			with(good(a), func(it *batpak.BatchItem) { it.Options.IdempotencyKey = "k" }),
			with(good(b), func(it *batpak.BatchItem) { it.Options.IdempotencyKey = "k" })}, 1, batpak.ErrDuplicate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := s.Stats()
			_, err := s.AppendBatch(bg, tc.items)
			var bie *batpak.BatchItemError
			if !errors.As(err, &bie) || !errors.Is(err, batpak.ErrBatchInvalid) {
				t.Fatalf("AppendBatch: %v, want a *BatchItemError", err)
			}
			if bie.Item != tc.item || !errors.Is(err, tc.is) {
				t.Fatalf("rejected at item %d for %v; want item %d for %v", bie.Item, err, tc.item, tc.is)
			}
			after := s.Stats()
			if after.Events != before.Events || after.LastGlobal != before.LastGlobal {
				t.Fatalf("a rejected batch wrote something: %d→%d events", before.Events, after.Events)
			}
			// The entities' sequences did not move.
			na, nb := countOf(t, s, "a"), countOf(t, s, "b")
			if r := mustAppend(t, s, a, kindMoved, payload{}); r.Sequence != uint64(na) {
				t.Fatalf("a's next sequence is %d after a rejected batch, want %d", r.Sequence, na)
			}
			if r := mustAppend(t, s, b, kindMoved, payload{}); r.Sequence != uint64(nb) {
				t.Fatalf("b's next sequence is %d after a rejected batch, want %d", r.Sequence, nb)
			}
		})
	}
	checkLog(t, s, all(t, s), true)
}

// countOf counts an entity's events.
func countOf(t testing.TB, s *batpak.Store, entity string) int {
	t.Helper()
	return len(collect(t, s.Stream(bg, entity)))
}

func TestBatchLimitsAndEmptyBatches(t *testing.T) {
	s := openStore(t, t.TempDir(), batpak.WithBatchLimits(3, 100))
	c := coord(t, "e", "s")
	item := func(n int) batpak.BatchItem {
		return batpak.BatchItem{Coord: c, Kind: kindMoved, Payload: make([]byte, n)}
	}

	if _, err := s.AppendBatch(bg, []batpak.BatchItem{item(1), item(1), item(1), item(1)}); !errors.Is(err, batpak.ErrBatchTooLarge) {
		t.Fatalf("4 items with a limit of 3: %v, want ErrBatchTooLarge", err)
	}
	if _, err := s.AppendBatch(bg, []batpak.BatchItem{item(50), item(50), item(1)}); !errors.Is(err, batpak.ErrBatchTooLarge) {
		t.Fatalf("101 payload bytes with a limit of 100: %v, want ErrBatchTooLarge", err)
	}
	if _, err := s.AppendBatch(bg, nil); !errors.Is(err, batpak.ErrEmptyBatch) {
		t.Fatalf("nil batch: %v, want ErrEmptyBatch", err)
	}
	if _, err := s.AppendBatch(bg, []batpak.BatchItem{}); !errors.Is(err, batpak.ErrEmptyBatch) {
		t.Fatalf("empty batch: %v, want ErrEmptyBatch", err)
	}
	if _, err := s.SubmitBatch(bg, nil, batpak.DefaultDurability); !errors.Is(err, batpak.ErrEmptyBatch) {
		t.Fatalf("empty SubmitBatch: %v, want ErrEmptyBatch", err)
	}
	if n := s.Stats().Events; n != 0 {
		t.Fatalf("rejected batches wrote %d events", n)
	}
	rs, err := s.AppendBatch(bg, []batpak.BatchItem{item(50), item(49), item(1)})
	if err != nil || len(rs) != 3 {
		t.Fatalf("a batch at both limits: %v", err)
	}
}

func TestIdempotentBatchRetryReturnsTheOriginalReceipts(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	keyed := func(key string, c batpak.Coordinate) batpak.BatchItem {
		return batpak.BatchItem{Coord: c, Kind: kindMoved, Payload: payload{Note: key}, Options: batpak.AppendOptions{IdempotencyKey: key}}
	}
	a, b := coord(t, "a", "s"), coord(t, "b", "s")
	batch := []batpak.BatchItem{keyed("k1", a), keyed("k2", b), keyed("k3", a)}
	first, err := s.AppendBatch(bg, batch)
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, a, kindMoved, payload{}) // the log moves on
	events := 4
	check := func(s *batpak.Store, when string) {
		t.Helper()
		again, err := s.AppendBatch(bg, batch)
		if err != nil {
			t.Fatalf("%s: retry: %v", when, err)
		}
		for i := range first {
			want := first[i]
			want.Replayed = true
			if again[i] != want {
				t.Fatalf("%s: retry receipt %d\n%+v\nwant\n%+v", when, i, again[i], want)
			}
		}
		if n := s.Stats().Events; n != events {
			t.Fatalf("%s: %d events after the retry, want %d", when, n, events)
		}
		for _, tc := range []struct {
			name  string
			items []batpak.BatchItem
		}{
			{"SeenAndNewKeys", []batpak.BatchItem{keyed("k1", a), keyed("k2", b), keyed("k4", a)}},
			{"SeenKeyAndUnkeyedItem", []batpak.BatchItem{keyed("k1", a), {Coord: b, Kind: kindMoved, Payload: payload{}}}},
			{"SeenKeyOtherCoordinate", []batpak.BatchItem{keyed("k1", b), keyed("k2", b), keyed("k3", a)}},
		} {
			if _, err := s.AppendBatch(bg, tc.items); !errors.Is(err, batpak.ErrDuplicate) {
				t.Fatalf("%s: %s: %v, want ErrDuplicate", when, tc.name, err)
			}
		}
		if n := s.Stats().Events; n != events {
			t.Fatalf("%s: %d events after rejected retries, want %d", when, n, events)
		}
		// A key first used by a single append replays inside a batch too.
		r, err := s.AppendWithOptions(bg, a, kindMoved, payload{}, batpak.AppendOptions{IdempotencyKey: "k2"})
		if !errors.Is(err, batpak.ErrDuplicate) {
			t.Fatalf("%s: single append reusing a batch key on another entity: %+v, %v; want ErrDuplicate", when, r, err)
		}
		r, err = s.AppendWithOptions(bg, b, kindMoved, payload{Note: "k2"}, batpak.AppendOptions{IdempotencyKey: "k2"})
		if err != nil || !r.Replayed || r.ID != first[1].ID {
			t.Fatalf("%s: single append retrying a batch item's key: %+v, %v", when, r, err)
		}
	}
	check(s, "same session")

	// The same keyed batch submitted twice at once writes once.
	twin := []batpak.BatchItem{keyed("t1", a), keyed("t2", b)}
	t1, err := s.SubmitBatch(bg, twin, batpak.DefaultDurability)
	if err != nil {
		t.Fatal(err)
	}
	t2, err := s.SubmitBatch(bg, twin, batpak.DefaultDurability)
	if err != nil {
		t.Fatal(err)
	}
	r1, err1 := t1.WaitAll(bg)
	r2, err2 := t2.WaitAll(bg)
	if err1 != nil || err2 != nil {
		t.Fatalf("twin batches: %v / %v", err1, err2)
	}
	for i := range r1 {
		if r1[i].Replayed || !r2[i].Replayed || r1[i].ID != r2[i].ID {
			t.Fatalf("twin batches, item %d: %+v and %+v; want one write and one replay of it", i, r1[i], r2[i])
		}
	}
	if n := s.Stats().Events; n != 6 {
		t.Fatalf("%d events after twin batches, want 6", n)
	}
	closeStore(t, s)
	s = openStore(t, dir)
	events = 6
	check(s, "after reopen")
}

func TestReadersNeverSeeAPartialBatch(t *testing.T) {
	s := openStore(t, t.TempDir())
	const writers, batches = 2, 150
	var done atomic.Bool
	var wg sync.WaitGroup
	var polls atomic.Int64
	for rd := range 2 {
		wg.Go(func() {
			for !done.Load() {
				var evs []*batpak.StoredEvent
				region := event.AllEvents().WithKind(kindMarker)
				if rd == 1 {
					region = event.ForScope("batches")
				}
				for ev, err := range s.Query(bg, region) {
					if err != nil {
						t.Errorf("reader %d: %v", rd, err)
						return
					}
					evs = append(evs, ev)
				}
				if _, err := batchCounts(evs); err != nil {
					t.Errorf("reader %d: %v", rd, err)
					return
				}
				polls.Add(1)
			}
		})
	}
	var writersWG sync.WaitGroup
	for w := range writers {
		writersWG.Go(func() {
			for b := range batches {
				id := w*batches + b
				n := 2 + id%5
				items := make([]batpak.BatchItem, n)
				for i := range items {
					items[i] = batpak.BatchItem{
						Coord:   coord(t, fmt.Sprintf("entity:%d", (id+i)%7), "batches"),
						Kind:    kindMarker,
						Payload: batchMark{Batch: id, Item: i, Of: n},
					}
				}
				d := batpak.DefaultDurability
				if b%3 == 0 {
					d = batpak.OnWrite
				}
				tk, err := s.SubmitBatch(bg, items, d)
				if err == nil {
					_, err = tk.WaitAll(bg)
				}
				if err != nil {
					t.Errorf("writer %d batch %d: %v", w, b, err)
					return
				}
			}
		})
	}
	writersWG.Wait()
	done.Store(true)
	wg.Wait()
	evs := all(t, s)
	counts, err := batchCounts(evs)
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != writers*batches {
		t.Fatalf("%d batches visible, want %d", len(counts), writers*batches)
	}
	checkLog(t, s, evs, true)
	t.Logf("%d reader polls over %d batches", polls.Load(), writers*batches)
}

// TestLargeWritesBetweenMappedCopies: on a real file the writer copies small
// runs of frames into the segment's mapping and writes large ones (a big
// batch) with a write call; interleaved, across fsyncs and a rotation,
// every event reads back in full, before and after reopening, and the
// store verifies.
func TestLargeWritesBetweenMappedCopies(t *testing.T) {
	dir := t.TempDir()
	opts := []batpak.Option{batpak.WithSegmentSize(256 << 10)}
	s := openStore(t, dir, opts...)
	want := 0
	for round := range 12 {
		for i := range 5 { // small: copied into the mapping
			mustAppend(t, s, coord(t, fmt.Sprintf("small-%d", i), "s"), kindMoved, payload{N: want})
			want++
		}
		items := make([]batpak.BatchItem, 200) // ≈ 20 KiB: a write call
		for i := range items {
			items[i] = batpak.BatchItem{Coord: coord(t, fmt.Sprintf("big-%d", i%7), "s"), Kind: kindSpoke,
				Payload: payload{N: want, Note: fmt.Sprintf("round %d item %d", round, i)}}
			want++
		}
		_, err := s.AppendBatch(bg, items)
		require.NoError(t, err)
	}
	check := func(s *batpak.Store) {
		evs := all(t, s)
		require.Len(t, evs, want)
		for i, ev := range evs {
			p, err := batpak.Decode[payload](ev)
			require.NoError(t, err)
			require.Equal(t, i, p.N, "event %d", i)
		}
		checkLog(t, s, evs, true)
		rep, err := s.Verify(bg)
		require.NoError(t, err)
		require.Equal(t, want, rep.Events)
	}
	check(s)
	require.Greater(t, len(segmentFiles(t, vfs.OS, dir)), 1, "the log rotated")
	require.NoError(t, s.Close())
	check(openStore(t, dir, opts...))
}
