package natsembed_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/jetstream"
	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBatchKeysUnindexed: a store indexes a keyed batch's idempotency keys
// one by one after the batch is stored, so a failure part way (the index
// bucket unreachable, as in a partition) leaves some or all of them out.
// A retry of the batch must still be answered with the stored batch's
// receipts, and the missing keys indexed — here with some keys deleted
// from the index, then all of them (the server's duplicate window still
// holds their message ids); a batch that merely reuses some of the keys
// stays a duplicate.
func TestBatchKeysUnindexed(t *testing.T) {
	srv := startServer(t)
	nc := connect(t, srv)
	o := jetstream.Options{Stream: "BKEYS", Subject: "bkeys"}
	s := openStore(t, nc, o)
	ctx := context.Background()
	items := make([]batpak.BatchItem, 4)
	for i := range items {
		items[i] = batpak.BatchItem{
			Coord: event.MustCoordinate(fmt.Sprintf("e:%d", i%2), "s"), Kind: kindA, Payload: i,
			Options: batpak.AppendOptions{IdempotencyKey: fmt.Sprintf("key-%d", i)},
		}
	}
	first, err := s.AppendBatch(ctx, items)
	require.NoError(t, err)

	js, err := njs.New(nc)
	require.NoError(t, err)
	kv, err := js.KeyValue(ctx, o.Stream+"_index")
	require.NoError(t, err)
	keyOf := func(i int) string {
		return "k." + base64.RawURLEncoding.EncodeToString([]byte(items[i].Options.IdempotencyKey))
	}
	unindex := func(idx ...int) {
		for _, i := range idx {
			require.NoError(t, kv.Purge(ctx, keyOf(i)))
		}
	}
	replayed := func(what string) {
		t.Helper()
		rs, err := s.AppendBatch(ctx, items)
		require.NoError(t, err, what)
		require.Len(t, rs, len(first))
		for i, r := range rs {
			assert.Equal(t, first[i].ID, r.ID, "%s: item %d", what, i)
			assert.Equal(t, first[i].Global, r.Global, "%s: item %d", what, i)
			assert.True(t, r.Replayed, "%s: item %d", what, i)
		}
		for i := range items {
			_, err := kv.Get(ctx, keyOf(i))
			require.NoError(t, err, "%s: key %d indexed again", what, i)
		}
	}

	unindex(2, 3)
	replayed("two keys unindexed")
	unindex(0, 1, 2, 3)
	replayed("no key indexed")

	// Reusing two of the keys in another batch is not a retry.
	unindex(2, 3)
	other := []batpak.BatchItem{items[0], items[1], {Coord: items[2].Coord, Kind: kindA, Payload: "other",
		Options: batpak.AppendOptions{IdempotencyKey: "key-new"}}}
	_, err = s.AppendBatch(ctx, other)
	require.ErrorIs(t, err, batpak.ErrDuplicate)

	rep, err := s.Verify(ctx)
	require.NoError(t, err)
	require.NoError(t, rep.Problem)
	assert.Equal(t, len(items), rep.Events, "the batch is stored once")
}
