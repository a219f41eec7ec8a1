package storetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		require.Equal(t, step.seq, r.Sequence, "append %d to %v: sequence", i, step.c)
		require.Greater(t, r.Global, last, "append %d: global above the previous one", i)
		last = r.Global
		assert.False(t, r.ID.IsZero(), "append %d: a fresh id", i)
		assert.Equal(t, r.ID, r.Correlation, "append %d: the correlation of an event appended alone is its own id", i)
		assert.True(t, r.Causation.IsZero(), "append %d: no causation", i)
		assert.False(t, r.Replayed, "append %d", i)
	}
	evs := collect(t, st.Stream(bg, "player:alice"))
	require.Len(t, evs, 4, "alice's stream")
	for i, ev := range evs {
		assert.EqualValues(t, i, ev.Sequence, "alice's stream: event %d", i)
	}
}

func (s *suite) expectedSequence(t *testing.T) {
	st := s.open(t)
	c := event.MustCoordinate("account:1", "bank")
	_, err := st.AppendWithOptions(bg, c, KindMoved, Moved{N: 1}, event.Expect(0))
	require.NoError(t, err, "Expect(0) on a new entity")
	_, err = st.AppendWithOptions(bg, c, KindMoved, Moved{N: 2}, event.Expect(0))
	require.ErrorIs(t, err, batpak.ErrSequenceMismatch, "Expect(0) on an entity with one event")
	var mm *batpak.SequenceMismatchError
	require.ErrorAs(t, err, &mm)
	assert.Equal(t, batpak.SequenceMismatchError{Entity: "account:1", Expected: 0, Actual: 1}, *mm)
	r, err := st.AppendWithOptions(bg, c, KindMoved, Moved{N: 3}, event.Expect(1))
	require.NoError(t, err, "Expect(1)")
	assert.EqualValues(t, 1, r.Sequence)
	assert.Len(t, collect(t, st.Stream(bg, "account:1")), 2, "events after one refused append")
}

func (s *suite) idempotency(t *testing.T) {
	st := s.open(t)
	c := event.MustCoordinate("order:7", "shop")
	opts := event.AppendOptions{IdempotencyKey: "req-42"}
	first, err := st.AppendWithOptions(bg, c, KindMoved, Moved{N: 1}, opts)
	require.NoError(t, err, "first keyed append")
	require.False(t, first.Replayed, "first keyed append")
	again, err := st.AppendWithOptions(bg, c, KindMoved, Moved{N: 1}, opts)
	require.NoError(t, err, "retry")
	assert.True(t, again.Replayed, "a retry is a replay")
	assert.Equal(t, first.ID, again.ID, "a retry returns the original receipt")
	assert.Equal(t, first.Global, again.Global)
	assert.Equal(t, first.Sequence, again.Sequence)
	assert.Len(t, collect(t, st.Stream(bg, "order:7")), 1, "events after a retry")
	other := event.MustCoordinate("order:8", "shop")
	_, err = st.AppendWithOptions(bg, other, KindMoved, Moved{}, opts)
	assert.ErrorIs(t, err, batpak.ErrDuplicate, "key reused for another entity")
	ev, err := st.Get(bg, first.ID)
	require.NoError(t, err, "Get of the keyed event")
	assert.Equal(t, "req-42", ev.IdempotencyKey)
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
	require.NoError(t, err, "AppendBatch")
	require.Len(t, rs, 4, "receipts")
	wantSeq := []uint64{1, 0, 2, 1}
	for i, r := range rs {
		assert.Equal(t, wantSeq[i], r.Sequence, "item %d: sequence", i)
		if i > 0 {
			assert.Greater(t, r.Global, rs[i-1].Global, "receipts in item order: %v", receiptGlobals(rs...))
		}
	}
	assert.Equal(t, rs[0].ID, rs[1].Causation, "CauseItem(0)")
	assert.Equal(t, rs[1].ID, rs[2].Causation, "CauseLatestOf(player:bob)")
	assert.Equal(t, pre.ID, rs[3].Causation, "CauseID")
	for i, r := range rs {
		ev, err := st.Get(bg, r.ID)
		require.NoError(t, err, "Get item %d", i)
		sameEvent(t, "batch item", ev, r)
		assert.Equal(t, i+1, decodeMoved(t, ev).N, "item %d payload", i)
	}
	assert.Equal(t, append([]uint64{pre.Global}, receiptGlobals(rs...)...), globals(collect(t, st.Query(bg, event.AllEvents()))), "Query")
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
	require.ErrorAs(t, err, &bie, "a batch with a failing CAS item")
	assert.Equal(t, 1, bie.Item, "the failing item")
	assert.ErrorIs(t, err, batpak.ErrSequenceMismatch)
	assert.ErrorIs(t, err, batpak.ErrBatchInvalid)
	assert.Equal(t, before, globals(collect(t, st.Query(bg, event.AllEvents()))), "a rejected batch left events")
	_, err = st.Latest(bg, "player:alice")
	assert.ErrorIs(t, err, batpak.ErrNotFound, "alice after the rejected batch")
	// The next batch numbers on as if the rejected one never happened.
	rs, err := st.AppendBatch(bg, []batpak.BatchItem{{Coord: bob, Kind: KindMoved, Payload: Moved{}, Options: event.Expect(1)}})
	require.NoError(t, err, "a batch after a rejected one")
	assert.EqualValues(t, 1, rs[0].Sequence)
	// Idempotent batch: a retry returns the original receipts.
	items := []batpak.BatchItem{
		{Coord: alice, Kind: KindMoved, Payload: Moved{N: 7}, Options: event.AppendOptions{IdempotencyKey: "b-1"}},
		{Coord: bob, Kind: KindMoved, Payload: Moved{N: 8}, Options: event.AppendOptions{IdempotencyKey: "b-2"}},
	}
	first, err := st.AppendBatch(bg, items)
	require.NoError(t, err, "keyed batch")
	again, err := st.AppendBatch(bg, items)
	require.NoError(t, err, "retried keyed batch")
	require.Len(t, again, 2)
	assert.Equal(t, first[0].ID, again[0].ID)
	assert.Equal(t, first[1].ID, again[1].ID)
	assert.True(t, again[0].Replayed, "the original receipts, replayed")
	assert.Len(t, collect(t, st.Stream(bg, "player:alice")), 1, "alice's events after a retried batch")
}

func (s *suite) batchInvalid(t *testing.T) {
	st := s.open(t)
	_, err := st.AppendBatch(bg, nil)
	assert.ErrorIs(t, err, batpak.ErrEmptyBatch)
	c := event.MustCoordinate("x:1", "s")
	_, err = st.AppendBatch(bg, []batpak.BatchItem{
		{Coord: c, Kind: KindMoved, Payload: Moved{}},
		{Coord: c, Kind: KindMoved, Payload: Moved{}, Cause: batpak.CauseItem(5)},
	})
	var bie *batpak.BatchItemError
	require.ErrorAs(t, err, &bie, "a cause pointing past the item")
	assert.Equal(t, 1, bie.Item)
	_, err = st.Latest(bg, "x:1")
	assert.ErrorIs(t, err, batpak.ErrNotFound, "x:1 after an invalid batch")
}

func (s *suite) reaction(t *testing.T) {
	st := s.open(t)
	c := event.MustCoordinate("order:1", "shop")
	placed := mustAppend(t, st, c, KindMoved, Moved{N: 1})
	r, err := st.AppendReaction(bg, event.MustCoordinate("mail:1", "shop"), KindSpoke, Moved{N: 2}, placed.Correlation, placed.ID)
	require.NoError(t, err, "AppendReaction")
	assert.Equal(t, placed.ID, r.Correlation, "the reaction's correlation")
	assert.Equal(t, placed.ID, r.Causation, "the reaction's causation")
	ev, err := st.Get(bg, r.ID)
	require.NoError(t, err, "Get reaction")
	sameEvent(t, "reaction", ev, r)
	// Options carry correlation and causation too.
	corr := event.NewID()
	r2, err := st.AppendWithOptions(bg, c, KindMoved, Moved{}, event.AppendOptions{Correlation: corr, Causation: r.ID, Flags: 0x5})
	require.NoError(t, err, "options with correlation and causation")
	assert.Equal(t, corr, r2.Correlation)
	assert.Equal(t, r.ID, r2.Causation)
	ev, err = st.Get(bg, r2.ID)
	require.NoError(t, err)
	assert.EqualValues(t, 0x5, ev.Flags)
	assert.Equal(t, corr, ev.Correlation)
}
