package batpak_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/vfs"
)

// Atomic batches: order, intra-batch causes and expectations, rejection
// of the whole batch, limits, idempotent retries, visibility to readers
// and crashes in the middle of a commit.

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
		if r.Global != pre.Global+1+uint64(i) || r.Sequence() != wantSeq[i] || r.Coordinate != items[i].Coord || r.Kind != items[i].Kind || r.Replayed {
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
	if rs[0].Sequence() != 2 || rs[2].Sequence() != 3 || rs[3].Sequence() != 1 {
		t.Fatalf("sequences %d %d %d", rs[0].Sequence(), rs[2].Sequence(), rs[3].Sequence())
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
			if r := mustAppend(t, s, a, kindMoved, payload{}); r.Sequence() != uint64(na) {
				t.Fatalf("a's next sequence is %d after a rejected batch, want %d", r.Sequence(), na)
			}
			if r := mustAppend(t, s, b, kindMoved, payload{}); r.Sequence() != uint64(nb) {
				t.Fatalf("b's next sequence is %d after a rejected batch, want %d", r.Sequence(), nb)
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

// crashWorkload is a fixed sequence of singles and batches, each item
// padded with pad bytes. It stops at the first error and returns what was
// acknowledged: receipts and the batches (by number) whose AppendBatch
// returned.
func crashWorkload(t testing.TB, s *batpak.Store, pad int) (acked []batpak.Receipt, ackedBatches map[int]bool, err error) {
	ackedBatches = map[int]bool{}
	a, b, c := coord(t, "a", "s"), coord(t, "b", "s"), coord(t, "c", "t")
	for round := range 4 {
		r, err := s.Append(bg, a, kindMoved, batchMark{Batch: -1, Of: 1, Pad: make([]byte, pad)})
		if err != nil {
			return acked, ackedBatches, err
		}
		acked = append(acked, r)
		n := 2 + round
		items := make([]batpak.BatchItem, n)
		for i := range items {
			co := []batpak.Coordinate{a, b, c}[i%3]
			items[i] = batpak.BatchItem{Coord: co, Kind: kindMarker, Payload: batchMark{Batch: round, Item: i, Of: n, Pad: make([]byte, pad)}}
			if i > 0 {
				items[i].Cause = batpak.CauseItem(i - 1)
			}
		}
		items[0].Options.IdempotencyKey = fmt.Sprintf("batch-%d", round)
		rs, err := s.AppendBatch(bg, items)
		if err != nil {
			return acked, ackedBatches, err
		}
		acked = append(acked, rs...)
		ackedBatches[round] = true
		if round == 2 {
			// A big batch: many frames in one write.
			big := make([]batpak.BatchItem, 20)
			for i := range big {
				big[i] = batpak.BatchItem{Coord: b, Kind: kindMarker, Payload: batchMark{Batch: 100, Item: i, Of: len(big), Pad: make([]byte, pad)}}
			}
			rs, err := s.AppendBatch(bg, big)
			if err != nil {
				return acked, ackedBatches, err
			}
			acked = append(acked, rs...)
			ackedBatches[100] = true
		}
	}
	return acked, ackedBatches, nil
}

// checkCrashImage opens a crash image and checks that every acknowledged
// event is there as acknowledged, no batch is partly there, and the log
// is consistent and can be written again. It reports the first violation.
func checkCrashImage(t *testing.T, img vfs.FS, acked []batpak.Receipt, ackedBatches map[int]bool, opts ...batpak.Option) error {
	t.Helper()
	s, err := tryOpen(memDir, append(opts, batpak.WithFS(img))...)
	if err != nil {
		return fmt.Errorf("opening the crash image: %w", err)
	}
	defer s.Close()
	evs, err := readAcknowledged(s, acked, ackedBatches)
	if err != nil {
		return err
	}
	checkLog(t, s, evs, true)
	r, err := s.Append(bg, coord(t, "a", "s"), kindMoved, payload{N: -1})
	if err != nil {
		return fmt.Errorf("appending after recovery: %w", err)
	}
	if len(evs) > 0 && r.Global <= evs[len(evs)-1].Global {
		return fmt.Errorf("global %d reused after recovery", r.Global)
	}
	return nil
}

// readAcknowledged reads a recovered store's whole log and checks that
// every acknowledged event is in it as acknowledged and that no
// acknowledged batch is missing (batchCounts rejects a partial one). It
// returns the log.
func readAcknowledged(s *batpak.Store, acked []batpak.Receipt, ackedBatches map[int]bool) ([]*batpak.StoredEvent, error) {
	var evs []*batpak.StoredEvent
	byID := map[batpak.ID]*batpak.StoredEvent{}
	for ev, err := range s.Query(bg, event.AllEvents()) {
		if err != nil {
			return nil, fmt.Errorf("reading the recovered log: %w", err)
		}
		if byID[ev.ID] != nil {
			return nil, fmt.Errorf("id reused: %v twice", ev.ID)
		}
		evs = append(evs, ev)
		byID[ev.ID] = ev
	}
	for i, r := range acked {
		ev, ok := byID[r.ID]
		if !ok {
			return nil, fmt.Errorf("acknowledged event %d (global %d) lost", i, r.Global)
		}
		if !receiptMatches(r, ev) {
			return nil, fmt.Errorf("acknowledged event %d recovered with other fields", i)
		}
	}
	counts, err := batchCounts(evs)
	if err != nil {
		return nil, err
	}
	for b := range ackedBatches {
		if counts[b] == 0 {
			return nil, fmt.Errorf("acknowledged batch %d lost", b)
		}
	}
	return evs, nil
}

// crashEnumeration runs crashWorkload on a fresh MemFS crashing after
// each of its operations, with each crash mode, and checks every image.
func crashEnumeration(t *testing.T, pad int, modes map[string]vfs.CrashOptions) {
	opts := []batpak.Option{batpak.WithSegmentSize(64 << 10)}
	// Learn how many file-system operations the workload performs.
	dry := vfs.NewMem()
	s := openMem(t, dry, opts...)
	if _, _, err := crashWorkload(t, s, pad); err != nil {
		t.Fatal(err)
	}
	closeStore(t, s)
	total := dry.Ops()
	segments := len(segmentFiles(t, dry, memDir))

	points, failures := 0, 0
	kinds := map[string]int{} // violations by kind
	for name, crash := range modes {
		for k := 0; k <= total; k++ {
			label := fmt.Sprintf("%s crash after op %d of %d", name, k, total)
			mem := vfs.NewMem()
			mem.SetCrashAfter(k, crash, nil)
			var acked []batpak.Receipt
			var ackedBatches map[int]bool
			s, err := tryOpen(memDir, append(opts, batpak.WithFS(mem))...)
			if err == nil {
				acked, ackedBatches, _ = crashWorkload(t, s, pad)
				_ = s.Close() // errors expected: the file system is gone
			}
			img := mem.Crashed()
			if img == nil {
				t.Fatalf("%s: no crash happened", label)
			}
			points++
			if errors.Is(err, errOpenPanicked) {
				// Open may fail on a crashed file system, but never by panicking.
				err = fmt.Errorf("Open on the crashing file system: %w", err)
			} else {
				err = checkCrashImage(t, img, acked, ackedBatches, opts...)
			}
			if err != nil {
				kind, _, _ := strings.Cut(err.Error(), ":")
				kinds[kind]++
				if failures++; failures <= 5 {
					t.Errorf("%s: %v", label, err)
				}
			}
		}
	}
	figure(t, "crash points exercised: %d (%d operations × %d modes, %d segments); violations: %d %v", points, total+1, len(modes), segments, failures, kinds)
}

func TestCrashAtEveryOperationKeepsBatchesWholeAndAcknowledgedEvents(t *testing.T) {
	modes := map[string]vfs.CrashOptions{
		"Strict":  {},
		"KeepAll": {KeepUnsyncedFraction: 1},
	}
	t.Run("OneSegment", func(t *testing.T) { crashEnumeration(t, 0, modes) })
	// Padded items fill 64 KiB segments: crashes around every rotation.
	t.Run("Rotating", func(t *testing.T) { crashEnumeration(t, 6000, modes) })
}

func TestCrashWithPartialWritebackKeepsBatchesWholeAndAcknowledgedEvents(t *testing.T) {
	// A kinder crash: the kernel wrote back some unsynced blocks and not
	// others, in any order, so the never-acknowledged tail may hold holes
	// of zeros followed by surviving frames. Small blocks tear batches.
	modes := map[string]vfs.CrashOptions{}
	seeds := uint64(3)
	if os.Getenv("BATPAK_LONG") != "" {
		seeds = 50
	}
	for seed := range seeds {
		modes[fmt.Sprintf("Keep50%%Seed%d", seed)] = vfs.CrashOptions{KeepUnsyncedFraction: 0.5, Seed: seed, BlockSize: 64}
	}
	crashEnumeration(t, 0, modes)
}

func TestCrashDuringRecoveryKeepsAcknowledgedEvents(t *testing.T) {
	// Crash once in the middle of a batch commit, then crash again at
	// every operation of the recovery and first append that follow.
	dry := vfs.NewMem()
	s := openMem(t, dry)
	acked, _, err := crashWorkload(t, s, 0)
	if err != nil {
		t.Fatal(err)
	}
	closeStore(t, s)
	// Crash with a torn tail: a copy of the synced log plus half of a
	// batch that was never acknowledged.
	base := dry.CrashClone(vfs.CrashOptions{})
	s = openMem(t, base)
	if _, err := s.AppendBatch(bg, []batpak.BatchItem{
		{Coord: coord(t, "a", "s"), Kind: kindMarker, Payload: batchMark{Batch: 999, Item: 0, Of: 2}},
		{Coord: coord(t, "b", "s"), Kind: kindMarker, Payload: batchMark{Batch: 999, Item: 1, Of: 2}},
	}); err != nil {
		t.Fatal(err)
	}
	closeStore(t, s)
	seg := segmentFiles(t, base, memDir)
	name := memDir + "/" + seg[len(seg)-1]
	data := readFile(t, base, name)
	writeFile(t, base, name, batpak.TornCut(data, len(data)-20))

	recovery := func(fs *vfs.MemFS) error {
		s, err := tryOpen(memDir, batpak.WithFS(fs))
		if err != nil {
			return err
		}
		_, err = s.Append(bg, coord(t, "c", "t"), kindMoved, payload{})
		return errors.Join(err, s.Close())
	}
	probe := base.CrashClone(vfs.CrashOptions{})
	if err := recovery(probe); err != nil {
		t.Fatal(err)
	}
	total := probe.Ops()
	for k := 0; k <= total; k++ {
		fs := base.CrashClone(vfs.CrashOptions{})
		fs.SetCrashAfter(k, vfs.CrashOptions{}, nil)
		label := fmt.Sprintf("crash after recovery op %d of %d", k, total)
		if err := recovery(fs); errors.Is(err, errOpenPanicked) {
			// Open may fail on a crashed file system, but never by panicking.
			t.Errorf("%s: %v", label, err)
		}
		img := fs.Crashed()
		if img == nil {
			continue // the recovery finished before op k
		}
		if err := checkCrashImage(t, img, acked, nil); err != nil {
			t.Errorf("%s: %v", label, err)
		}
	}
}
