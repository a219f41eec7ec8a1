package natsembed_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/jetstream"
	"github.com/batpak-go/batpak/storetest"
)

// TestCopyFromGroupsWholeUnits copies with CopyOptions.Group, cut short
// and resumed: every source event is stored once, in order, with its id
// and causes; the stream's atomic batches are runs of whole source units
// (a source batch never split), none longer than the group unless a
// source batch alone is; the chains verify.
func TestCopyFromGroupsWholeUnits(t *testing.T) {
	ctx := guardCtx(t)
	srv := startServer(t)
	src, want, units := sourceStore(t, t.TempDir())
	dst := openStore(t, connect(t, srv), jetstream.Options{Stream: "GROUP", Subject: "gr"})
	const group = 5

	cut, cancel := context.WithCancel(ctx)
	rep, err := dst.CopyFrom(cut, src, jetstream.CopyOptions{Group: group, Progress: func(copied int, _ uint64) {
		if copied >= 12 {
			cancel()
		}
	}})
	require.ErrorIs(t, err, context.Canceled)
	first := rep.Events
	require.GreaterOrEqual(t, first, 12)

	rep, err = dst.CopyFrom(ctx, src, jetstream.CopyOptions{Group: group})
	require.NoError(t, err)
	assert.Equal(t, want[first-1].Global, rep.After, "resumed after the stream's last event")
	assert.Equal(t, len(want), first+rep.Events, "every event copied once over the two runs")

	got := unitsOf(t, ctx, dst, len(want))
	assert.Less(t, len(got), len(units), "grouped: fewer atomic units than the source's")
	var flat []*batpak.StoredEvent
	unitOf := make([]int, 0, len(want)) // stored unit of each event, by position
	for i, u := range got {
		flat = append(flat, u...)
		for range u {
			unitOf = append(unitOf, i)
		}
	}
	require.Len(t, flat, len(want))
	for i, ev := range flat {
		assert.Equal(t, want[i].ID, ev.ID)
		assert.Equal(t, want[i].Correlation, ev.Correlation)
		assert.Equal(t, want[i].Causation, ev.Causation)
		assert.Equal(t, want[i].Sequence, ev.Sequence)
	}
	pos := 0
	for _, u := range units {
		for j := range u {
			assert.Equal(t, unitOf[pos], unitOf[pos+j], "source unit at global %d split", u[0])
		}
		pos += len(u)
	}
	for i, u := range got {
		if len(u) > group {
			t.Errorf("stored unit %d holds %d events, more than the group of %d", i, len(u), group)
		}
	}
	vr, err := dst.Verify(ctx)
	require.NoError(t, err)
	assert.NoError(t, vr.Problem)
}

// TestCopyFromStopsBeforeABatchTooLarge: a source batch of more events
// than a stream's atomic batch takes is not split: the copy stops before
// it with ErrBatchTooLarge, having stored what comes before, and a second
// run stops there again without storing anything twice.
func TestCopyFromStopsBeforeABatchTooLarge(t *testing.T) {
	ctx := guardCtx(t)
	srv := startServer(t)
	src, err := batpak.Open(t.TempDir(), batpak.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	c := event.MustCoordinate("acct:1", "bank")
	mustAppendJS(t, src, c, storetest.Moved{N: 1})
	big := make([]batpak.BatchItem, jetstream.MaxBatch+1)
	for i := range big {
		big[i] = batpak.BatchItem{Coord: event.MustCoordinate(fmt.Sprintf("acct:%d", i%7), "bank"), Kind: storetest.KindMoved, Payload: storetest.Moved{N: i}}
	}
	_, err = src.AppendBatch(ctx, big)
	require.NoError(t, err)
	mustAppendJS(t, src, c, storetest.Moved{N: 2})

	dst := openStore(t, connect(t, srv), jetstream.Options{Stream: "BIG", Subject: "bg"})
	for range 2 {
		rep, err := dst.CopyFrom(ctx, src, jetstream.CopyOptions{Group: 100})
		require.ErrorIs(t, err, batpak.ErrBatchTooLarge)
		n := 0
		for ev, err := range dst.Query(ctx, event.AllEvents()) {
			require.NoError(t, err)
			n++
			assert.Equal(t, uint64(1), ev.Global)
		}
		assert.Equal(t, 1, n, "only the event before the batch is stored, once")
		assert.LessOrEqual(t, rep.Events, 1)
	}
}
