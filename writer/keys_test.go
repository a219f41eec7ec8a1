package writer

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
)

func keyedItem(entity, key, payload string) Item {
	return Item{Coord: event.MustCoordinate(entity, "s"), Kind: kind, Payload: []byte(payload),
		Opts: event.AppendOptions{IdempotencyKey: key}}
}

func keyedSingle(entity, key, payload string) *Request {
	return NewAppend(keyedItem(entity, key, payload), event.Durable)
}

func keyedBatch(items ...Item) *Request {
	return NewBatch(items, event.Durable)
}

// Issue 22, item 5: a key reused with another payload was replayed (the
// first receipt, the new payload dropped). It must be ErrDuplicate in every
// state the first event can be in: written in the same drain, handed to the
// fsync actor but not yet published, and published (read back).
func TestKeyReusedWithAnotherPayloadIsRefusedInEveryState(t *testing.T) {
	h := newHarness(t, 1<<20)

	// The same drain.
	first, other, same := keyedSingle("pay", "pay-7", "amount=10"), keyedSingle("pay", "pay-7", "amount=9999"), keyedSingle("pay", "pay-7", "amount=10")
	h.run(first, other, same)
	a := answer(t, first)
	require.NoError(t, a.Err)
	err := answer(t, other).Err
	require.ErrorIs(t, err, ErrDuplicate, "same drain")
	assert.Contains(t, err.Error(), "another payload")
	c := answer(t, same)
	require.NoError(t, c.Err)
	assert.True(t, c.Receipts[0].Replayed)
	assert.Equal(t, a.Receipts[0].ID, c.Receipts[0].ID)

	// Handed to the fsync actor, not yet published.
	held := keyedSingle("pay", "pay-8", "amount=10")
	h.process(held)
	require.Zero(t, len(held.reply), "a durable append answered before its fsync")
	other = keyedSingle("pay", "pay-8", "amount=11")
	h.process(other)
	require.ErrorIs(t, answer(t, other).Err, ErrDuplicate, "pending key")
	h.run()
	require.NoError(t, answer(t, held).Err)

	// Published: checked against the event read back.
	other = keyedSingle("pay", "pay-7", "amount=9999")
	h.run(other)
	require.ErrorIs(t, answer(t, other).Err, ErrDuplicate, "published key")
	raw := keyedSingle("pay", "pay-7", "amount=10")
	raw.items[0].Codec = event.CodecJSON // same bytes, another codec: another event
	h.run(raw)
	require.ErrorIs(t, answer(t, raw).Err, ErrDuplicate, "published key, other codec")
	same = keyedSingle("pay", "pay-7", "amount=10")
	h.run(same)
	c = answer(t, same)
	require.NoError(t, c.Err)
	assert.True(t, c.Receipts[0].Replayed)
	assert.Equal(t, 2, h.idx.Len(), "refused retries wrote events")
}

// A batch whose keys were all seen is a retry only if it repeats the
// original batch: the same events (each checked as a single retry is), one
// batch of exactly these items, in the same order.
func TestBatchRetryMustRepeatTheOriginalBatch(t *testing.T) {
	for _, published := range []bool{false, true} {
		name := "pending"
		if published {
			name = "published"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, 1<<20)
			k1, k2, k3 := keyedItem("a", "k1", "1"), keyedItem("b", "k2", "2"), keyedItem("a", "k3", "3")
			s1, s2 := keyedSingle("c", "s1", "x"), keyedSingle("c", "s2", "y")
			orig := keyedBatch(k1, k2, k3)
			retries := map[string]*Request{
				"OtherPayload":      keyedBatch(k1, keyedItem("b", "k2", "two"), k3),
				"Reordered":         keyedBatch(k2, k1, k3),
				"Prefix":            keyedBatch(k1, k2),
				"Suffix":            keyedBatch(k2, k3),
				"SinglesAsOneBatch": keyedBatch(keyedItem("c", "s1", "x"), keyedItem("c", "s2", "y")),
			}
			exact := keyedBatch(k1, k2, k3)
			one := keyedBatch(k2) // a batch of one is checked as a single append is
			if published {
				h.run(orig, s1, s2)
			} else {
				h.process(orig, s1, s2)
			}
			for name, r := range retries {
				h.process(r)
				err := answer(t, r).Err
				require.ErrorIs(t, err, ErrDuplicate, name)
				require.ErrorIs(t, err, event.ErrBatchInvalid, name)
			}
			h.run(exact, one)
			o := answer(t, orig)
			require.NoError(t, o.Err)
			want := o.Receipts
			got := answer(t, exact)
			require.NoError(t, got.Err)
			require.Len(t, got.Receipts, 3)
			for i := range want {
				assert.Equal(t, want[i].ID, got.Receipts[i].ID, "item %d", i)
				assert.True(t, got.Receipts[i].Replayed)
			}
			o = answer(t, one)
			require.NoError(t, o.Err)
			assert.Equal(t, want[1].ID, o.Receipts[0].ID)
			assert.Equal(t, 5, h.idx.Len(), "refused retries wrote events")
		})
	}
}

// A key whose frame went into a segment sealed since (a rotation before the
// fsync actor published it) is checked against the frame read back from
// that segment.
func TestPendingKeyInASegmentSealedSinceIsChecked(t *testing.T) {
	h := newHarness(t, 1024)
	big := strings.Repeat("x", 600)
	held := keyedSingle("pay", "pay-9", big)
	h.process(held, keyedSingle("other", "", big)) // the second rotates
	require.Greater(t, h.w.seg.id, uint64(1), "no rotation")
	_, pending := h.w.core.st.keys["pay-9"]
	require.True(t, pending)
	require.Zero(t, h.idx.Len(), "published before the fsync actor ran")

	other, same := keyedSingle("pay", "pay-9", big+"!"), keyedSingle("pay", "pay-9", big)
	h.process(other, same)
	require.ErrorIs(t, answer(t, other).Err, ErrDuplicate)
	h.run()
	first, again := answer(t, held), answer(t, same)
	require.NoError(t, first.Err)
	require.NoError(t, again.Err)
	assert.True(t, again.Receipts[0].Replayed)
	assert.Equal(t, first.Receipts[0].ID, again.Receipts[0].ID)
}

// MessagePack writes a map in Go's random iteration order: a retry of a
// payload holding a map is the same payload though its bytes may differ.
func TestRetryOfAMapPayloadIsAReplay(t *testing.T) {
	m := map[string]int{}
	for i := range 32 {
		m[fmt.Sprintf("k%02d", i)] = i
	}
	var encodings [][]byte
	for i := 0; i < 1000 && len(encodings) < 2; i++ {
		b, c, err := event.Encode(event.CodecMsgPack, m)
		require.NoError(t, err)
		require.Equal(t, event.CodecMsgPack, c)
		if len(encodings) == 0 || string(b) != string(encodings[0]) {
			encodings = append(encodings, b)
		}
	}
	if len(encodings) < 2 {
		t.Skip("MessagePack encoded the map the same way 1,000 times: nothing to test")
	}
	h := newHarness(t, 1<<20)
	msg := func(b []byte) *Request {
		r := keyedSingle("m", "map-1", "")
		r.items[0].Codec, r.items[0].Payload = event.CodecMsgPack, b
		return r
	}
	first, pending := msg(encodings[0]), msg(encodings[1])
	h.run(first, pending)
	require.NoError(t, answer(t, first).Err)
	p := answer(t, pending)
	require.NoError(t, p.Err, "pending key")
	assert.True(t, p.Receipts[0].Replayed)
	published := msg(encodings[1])
	h.run(published)
	p = answer(t, published)
	require.NoError(t, p.Err, "published key")
	assert.True(t, p.Receipts[0].Replayed)
	m["k00"] = 99
	b, _, err := event.Encode(event.CodecMsgPack, m)
	require.NoError(t, err)
	changed := msg(b)
	h.run(changed)
	require.ErrorIs(t, answer(t, changed).Err, ErrDuplicate)
}
