package storetest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// Idempotency keys reused for something else: every backend refuses them
// with ErrDuplicate.

// idempotencyOtherEvent: a key reused for another payload is ErrDuplicate,
// never a replay that drops the new payload.
func (s *suite) idempotencyOtherEvent(t *testing.T) {
	st := s.open(t)
	c := event.MustCoordinate("payment:7", "billing")
	key := event.AppendOptions{IdempotencyKey: "pay-7"}
	first, err := st.AppendWithOptions(bg, c, KindMoved, Moved{N: 10}, key)
	require.NoError(t, err)
	_, err = st.AppendWithOptions(bg, c, KindMoved, Moved{N: 9999}, key)
	require.ErrorIs(t, err, batpak.ErrDuplicate, "key reused with another payload")
	_, err = st.AppendWithOptions(bg, c, KindMoved, []byte("raw"), key)
	require.ErrorIs(t, err, batpak.ErrDuplicate, "key reused with a raw payload")
	again, err := st.AppendWithOptions(bg, c, KindMoved, Moved{N: 10}, key)
	require.NoError(t, err)
	assert.True(t, again.Replayed)
	assert.Equal(t, first.ID, again.ID)
	evs := collect(t, st.Stream(bg, "payment:7"))
	require.Len(t, evs, 1)
	assert.Equal(t, 10, decodeMoved(t, evs[0]).N)

	// A payload holding a map may encode to other bytes each time (Go's map
	// order): a retry of it is still the same event.
	tags := map[string]int{}
	for i := range 32 {
		tags[fmt.Sprintf("tag-%02d", i)] = i
	}
	key = event.AppendOptions{IdempotencyKey: "tags-1"}
	first, err = st.AppendWithOptions(bg, c, KindOther, tags, key)
	require.NoError(t, err)
	for range 3 {
		again, err = st.AppendWithOptions(bg, c, KindOther, tags, key)
		require.NoError(t, err, "retry of a map payload")
		assert.Equal(t, first.ID, again.ID)
	}
}

// batchRetryShape: a batch whose keys were all seen is a retry only if it
// repeats the original batch — each item the same event, one batch of
// exactly these items in the same order; a batch of one is checked as a
// single append is.
func (s *suite) batchRetryShape(t *testing.T) {
	st := s.open(t)
	a := event.MustCoordinate("player:a", "room")
	b := event.MustCoordinate("player:b", "room")
	keyed := func(c batpak.Coordinate, key string, n int) batpak.BatchItem {
		return batpak.BatchItem{Coord: c, Kind: KindMoved, Payload: Moved{N: n}, Options: event.AppendOptions{IdempotencyKey: key}}
	}
	batch := []batpak.BatchItem{keyed(a, "r1", 1), keyed(b, "r2", 2), keyed(a, "r3", 3)}
	first, err := st.AppendBatch(bg, batch)
	require.NoError(t, err)
	_, err = st.AppendWithOptions(bg, b, KindMoved, Moved{N: 4}, event.AppendOptions{IdempotencyKey: "s1"})
	require.NoError(t, err)
	_, err = st.AppendWithOptions(bg, b, KindMoved, Moved{N: 5}, event.AppendOptions{IdempotencyKey: "s2"})
	require.NoError(t, err)
	before := globals(collect(t, st.Query(bg, event.AllEvents())))

	for name, items := range map[string][]batpak.BatchItem{
		"OtherPayload":      {batch[0], keyed(b, "r2", 22), batch[2]},
		"Reordered":         {batch[1], batch[0], batch[2]},
		"Prefix":            {batch[0], batch[1]},
		"Suffix":            {batch[1], batch[2]},
		"SinglesAsOneBatch": {keyed(b, "s1", 4), keyed(b, "s2", 5)},
	} {
		_, err := st.AppendBatch(bg, items)
		require.ErrorIs(t, err, batpak.ErrDuplicate, name)
		var bie *batpak.BatchItemError
		require.ErrorAs(t, err, &bie, name)
	}
	again, err := st.AppendBatch(bg, batch)
	require.NoError(t, err)
	require.Len(t, again, len(first))
	for i := range first {
		assert.True(t, again[i].Replayed, "item %d", i)
		assert.Equal(t, first[i].ID, again[i].ID, "item %d", i)
	}
	one, err := st.AppendBatch(bg, []batpak.BatchItem{batch[1]})
	require.NoError(t, err)
	assert.Equal(t, first[1].ID, one[0].ID, "a batch of one retrying a batch item")
	assert.Equal(t, before, globals(collect(t, st.Query(bg, event.AllEvents()))), "refused retries wrote events")
}
