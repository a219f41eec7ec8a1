package storetest

import (
	"errors"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// The write-side tests: sequences, conditions, idempotency, batches.

func (s *suite) sequences(t *testing.T) {
	st := s.open(t)
	a := event.MustCoordinate("player:alice", "room:hall")
	b := event.MustCoordinate("player:bob", "room:hall")
	a2 := event.MustCoordinate("player:alice", "room:crypt") // same entity, other scope
	var last uint64
	for i, step := range []struct {
		c   batpak.Coordinate
		seq uint64
	}{{a, 0}, {b, 0}, {a, 1}, {a2, 2}, {b, 1}, {a, 3}} {
		r := mustAppend(t, st, step.c, KindMoved, Moved{N: i})
		if r.Sequence != step.seq {
			t.Fatalf("append %d to %v: sequence %d, want %d", i, step.c, r.Sequence, step.seq)
		}
		if r.Global <= last {
			t.Fatalf("append %d: global %d not above the previous %d", i, r.Global, last)
		}
		last = r.Global
		if r.ID.IsZero() || r.Correlation != r.ID || !r.Causation.IsZero() || r.Replayed {
			t.Fatalf("append %d: receipt %+v: want a fresh id, correlation = id, no causation", i, r)
		}
	}
	evs := collect(t, st.Stream(bg, "player:alice"))
	for i, ev := range evs {
		if ev.Sequence != uint64(i) {
			t.Fatalf("alice's stream: event %d has sequence %d", i, ev.Sequence)
		}
	}
	if len(evs) != 4 {
		t.Fatalf("alice's stream has %d events, want 4", len(evs))
	}
}

func (s *suite) expectedSequence(t *testing.T) {
	st := s.open(t)
	c := event.MustCoordinate("account:1", "bank")
	if _, err := st.AppendWithOptions(bg, c, KindMoved, Moved{N: 1}, event.Expect(0)); err != nil {
		t.Fatalf("Expect(0) on a new entity: %v", err)
	}
	_, err := st.AppendWithOptions(bg, c, KindMoved, Moved{N: 2}, event.Expect(0))
	var mm *batpak.SequenceMismatchError
	if !errors.As(err, &mm) || !errors.Is(err, batpak.ErrSequenceMismatch) {
		t.Fatalf("Expect(0) on an entity with one event: %v, want a *SequenceMismatchError", err)
	}
	if mm.Entity != "account:1" || mm.Expected != 0 || mm.Actual != 1 {
		t.Fatalf("mismatch %+v: want entity account:1, expected 0, actual 1", *mm)
	}
	r, err := st.AppendWithOptions(bg, c, KindMoved, Moved{N: 3}, event.Expect(1))
	if err != nil || r.Sequence != 1 {
		t.Fatalf("Expect(1): %v, sequence %d", err, r.Sequence)
	}
	if n := len(collect(t, st.Stream(bg, "account:1"))); n != 2 {
		t.Fatalf("account:1 has %d events after one refused append, want 2", n)
	}
}

func (s *suite) idempotency(t *testing.T) {
	st := s.open(t)
	c := event.MustCoordinate("order:7", "shop")
	opts := event.AppendOptions{IdempotencyKey: "req-42"}
	first, err := st.AppendWithOptions(bg, c, KindMoved, Moved{N: 1}, opts)
	if err != nil || first.Replayed {
		t.Fatalf("first keyed append: %v, replayed %v", err, first.Replayed)
	}
	again, err := st.AppendWithOptions(bg, c, KindMoved, Moved{N: 1}, opts)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if !again.Replayed || again.ID != first.ID || again.Global != first.Global || again.Sequence != first.Sequence {
		t.Fatalf("retry receipt %+v, want the original %+v with Replayed", again, first)
	}
	if n := len(collect(t, st.Stream(bg, "order:7"))); n != 1 {
		t.Fatalf("order:7 has %d events after a retry, want 1", n)
	}
	other := event.MustCoordinate("order:8", "shop")
	if _, err := st.AppendWithOptions(bg, other, KindMoved, Moved{}, opts); !errors.Is(err, batpak.ErrDuplicate) {
		t.Fatalf("key reused for another entity: %v, want ErrDuplicate", err)
	}
	ev, err := st.Get(bg, first.ID)
	if err != nil || ev.IdempotencyKey != "req-42" {
		t.Fatalf("Get of the keyed event: %v, key %q", err, ev.IdempotencyKey)
	}
}

func (s *suite) batch(t *testing.T) {
	st := s.open(t)
	alice := event.MustCoordinate("player:alice", "room:hall")
	bob := event.MustCoordinate("player:bob", "room:hall")
	pre := mustAppend(t, st, alice, KindMoved, Moved{N: 0})
	rs, err := st.AppendBatch(bg, []batpak.BatchItem{
		{Coord: alice, Kind: KindMoved, Payload: Moved{N: 1}, Options: event.Expect(1)},
		{Coord: bob, Kind: KindSpoke, Payload: Moved{N: 2}, Cause: batpak.CauseItem(0)},
		{Coord: alice, Kind: KindMoved, Payload: Moved{N: 3}, Options: event.Expect(2), Cause: batpak.CauseLatestOf("player:bob")},
		{Coord: bob, Kind: KindSpoke, Payload: Moved{N: 4}, Cause: batpak.CauseID(pre.ID)},
	})
	if err != nil {
		t.Fatalf("AppendBatch: %v", err)
	}
	if len(rs) != 4 {
		t.Fatalf("%d receipts, want 4", len(rs))
	}
	wantSeq := []uint64{1, 0, 2, 1}
	for i, r := range rs {
		if r.Sequence != wantSeq[i] {
			t.Fatalf("item %d: sequence %d, want %d", i, r.Sequence, wantSeq[i])
		}
		if i > 0 && r.Global <= rs[i-1].Global {
			t.Fatalf("receipts out of order: %v", receiptGlobals(rs...))
		}
	}
	if rs[1].Causation != rs[0].ID || rs[2].Causation != rs[1].ID || rs[3].Causation != pre.ID {
		t.Fatalf("causes: %v %v %v, want %v %v %v", rs[1].Causation, rs[2].Causation, rs[3].Causation, rs[0].ID, rs[1].ID, pre.ID)
	}
	for i, r := range rs {
		ev, err := st.Get(bg, r.ID)
		if err != nil {
			t.Fatalf("Get item %d: %v", i, err)
		}
		sameEvent(t, "batch item", ev, r)
		if m := decodeMoved(t, ev); m.N != i+1 {
			t.Fatalf("item %d payload %+v", i, m)
		}
	}
	if got := globals(collect(t, st.Query(bg, event.AllEvents()))); !equalU64(got, append([]uint64{pre.Global}, receiptGlobals(rs...)...)) {
		t.Fatalf("Query sees %v", got)
	}
}

func (s *suite) batchAllOrNothing(t *testing.T) {
	st := s.open(t)
	alice := event.MustCoordinate("player:alice", "room:hall")
	bob := event.MustCoordinate("player:bob", "room:hall")
	mustAppend(t, st, bob, KindMoved, Moved{})
	before := globals(collect(t, st.Query(bg, event.AllEvents())))
	_, err := st.AppendBatch(bg, []batpak.BatchItem{
		{Coord: alice, Kind: KindMoved, Payload: Moved{N: 1}},
		{Coord: bob, Kind: KindMoved, Payload: Moved{N: 2}, Options: event.Expect(5)}, // bob has 1 event
		{Coord: alice, Kind: KindMoved, Payload: Moved{N: 3}},
	})
	var bie *batpak.BatchItemError
	if !errors.As(err, &bie) || bie.Item != 1 || !errors.Is(err, batpak.ErrSequenceMismatch) || !errors.Is(err, batpak.ErrBatchInvalid) {
		t.Fatalf("batch with a failing CAS item: %v, want a *BatchItemError for item 1 wrapping a sequence mismatch", err)
	}
	if after := globals(collect(t, st.Query(bg, event.AllEvents()))); !equalU64(after, before) {
		t.Fatalf("a rejected batch left events: before %v, after %v", before, after)
	}
	if _, err := st.Latest(bg, "player:alice"); !errors.Is(err, batpak.ErrNotFound) {
		t.Fatalf("alice after the rejected batch: %v, want ErrNotFound", err)
	}
	// The next batch numbers on as if the rejected one never happened.
	rs, err := st.AppendBatch(bg, []batpak.BatchItem{{Coord: bob, Kind: KindMoved, Payload: Moved{}, Options: event.Expect(1)}})
	if err != nil || rs[0].Sequence != 1 {
		t.Fatalf("batch after a rejected one: %v", err)
	}
	// Idempotent batch: a retry returns the original receipts.
	items := []batpak.BatchItem{
		{Coord: alice, Kind: KindMoved, Payload: Moved{N: 7}, Options: event.AppendOptions{IdempotencyKey: "b-1"}},
		{Coord: bob, Kind: KindMoved, Payload: Moved{N: 8}, Options: event.AppendOptions{IdempotencyKey: "b-2"}},
	}
	first, err := st.AppendBatch(bg, items)
	if err != nil {
		t.Fatalf("keyed batch: %v", err)
	}
	again, err := st.AppendBatch(bg, items)
	if err != nil || len(again) != 2 || again[0].ID != first[0].ID || again[1].ID != first[1].ID || !again[0].Replayed {
		t.Fatalf("retried keyed batch: %v %+v, want the original receipts replayed", err, again)
	}
	if n := len(collect(t, st.Stream(bg, "player:alice"))); n != 1 {
		t.Fatalf("alice has %d events after a retried batch, want 1", n)
	}
}

func (s *suite) batchInvalid(t *testing.T) {
	st := s.open(t)
	if _, err := st.AppendBatch(bg, nil); !errors.Is(err, batpak.ErrEmptyBatch) {
		t.Fatalf("empty batch: %v, want ErrEmptyBatch", err)
	}
	c := event.MustCoordinate("x:1", "s")
	_, err := st.AppendBatch(bg, []batpak.BatchItem{
		{Coord: c, Kind: KindMoved, Payload: Moved{}},
		{Coord: c, Kind: KindMoved, Payload: Moved{}, Cause: batpak.CauseItem(5)},
	})
	var bie *batpak.BatchItemError
	if !errors.As(err, &bie) || bie.Item != 1 {
		t.Fatalf("cause pointing past the item: %v, want a *BatchItemError for item 1", err)
	}
	if _, err := st.Latest(bg, "x:1"); !errors.Is(err, batpak.ErrNotFound) {
		t.Fatalf("x:1 after an invalid batch: %v, want ErrNotFound", err)
	}
}

func (s *suite) reaction(t *testing.T) {
	st := s.open(t)
	c := event.MustCoordinate("order:1", "shop")
	placed := mustAppend(t, st, c, KindMoved, Moved{N: 1})
	r, err := st.AppendReaction(bg, event.MustCoordinate("mail:1", "shop"), KindSpoke, Moved{N: 2}, placed.Correlation, placed.ID)
	if err != nil {
		t.Fatalf("AppendReaction: %v", err)
	}
	if r.Correlation != placed.ID || r.Causation != placed.ID {
		t.Fatalf("reaction receipt: correlation %v causation %v, want both %v", r.Correlation, r.Causation, placed.ID)
	}
	ev, err := st.Get(bg, r.ID)
	if err != nil {
		t.Fatalf("Get reaction: %v", err)
	}
	sameEvent(t, "reaction", ev, r)
	// Options carry correlation and causation too.
	corr := event.NewID()
	r2, err := st.AppendWithOptions(bg, c, KindMoved, Moved{}, event.AppendOptions{Correlation: corr, Causation: r.ID, Flags: 0x5})
	if err != nil || r2.Correlation != corr || r2.Causation != r.ID {
		t.Fatalf("options correlation: %v %+v", err, r2)
	}
	if ev, err := st.Get(bg, r2.ID); err != nil || ev.Flags != 0x5 || ev.Correlation != corr {
		t.Fatalf("Get: %v flags %#x", err, ev.Flags)
	}
}
