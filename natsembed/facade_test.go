package natsembed_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/jetstream"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/storetest"
)

// The facade's capabilities where the JetStream backend needs more than
// storetest can say: two clients, a forged message, a copy between
// backends.

func guardCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestWaitVisibleAcrossClients: a client handed another client's receipt
// waits for it with WaitVisible and then reads it, by id and in its
// entity's stream.
func TestWaitVisibleAcrossClients(t *testing.T) {
	ctx := guardCtx(t)
	srv := startServer(t)
	o := jetstream.Options{Stream: "RYW", Subject: "ryw"}
	writer := openStore(t, connect(t, srv), o)
	reader := openStore(t, connect(t, srv), o)
	c := event.MustCoordinate("ryw:1", "s")
	for i := range 20 {
		receipts := make(chan batpak.Receipt, 1)
		go func() {
			r, err := writer.Append(ctx, c, storetest.KindMoved, storetest.Moved{N: i})
			assert.NoError(t, err)
			receipts <- r
		}()
		r := <-receipts
		require.NoError(t, reader.WaitVisible(ctx, r.Global))
		ev, err := reader.Get(ctx, r.ID)
		require.NoError(t, err)
		assert.Equal(t, r.Global, ev.Global)
		var last uint64
		for ev, err := range reader.Stream(ctx, "ryw:1") {
			require.NoError(t, err)
			last = ev.Global
		}
		assert.Equal(t, r.Global, last, "the other client's stream ends with the event")
	}
}

// TestWalkAncestorsFindsABrokenChain: a message whose chain hash does not
// follow its predecessor's, published past the store, stops the walk (and
// the entity's stream) with ErrChainBroken.
func TestWalkAncestorsFindsABrokenChain(t *testing.T) {
	ctx := guardCtx(t)
	srv := startServer(t)
	nc := connect(t, srv)
	s := openStore(t, nc, jetstream.Options{Stream: "CHAIN", Subject: "ch"})
	c := event.MustCoordinate("chain1", "walk")
	var last batpak.Receipt
	for i := range 2 {
		last = mustAppendJS(t, s, c, storetest.Moved{N: i})
	}
	// The next event, sealed over a wrong predecessor hash.
	id := event.NewID()
	now := time.Now()
	rec := segment.EventRecord{
		ID: id, Correlation: id, Kind: storetest.KindMoved, Sequence: 2,
		Timestamp: now.UnixMicro(), WallMS: uint64(now.UnixMilli()), Codec: event.CodecRaw,
		Entity: "chain1", Scope: "walk", Payload: []byte("forged"),
	}
	frame, _ := segment.AppendEvent(nil, &rec, true, [32]byte{0xBA, 0xD})
	m := nats.NewMsg(fmt.Sprintf("ch.walk.chain1.%04x", uint16(storetest.KindMoved)))
	m.Data = frame
	m.Header.Set("Bp-Id", id.String())
	m.Header.Set("Bp-Seq", "2")
	ack, err := nc.RequestMsg(m, 5*time.Second)
	require.NoError(t, err)
	require.Contains(t, string(ack.Data), `"seq":`+strconv.FormatUint(last.Global+1, 10))

	var walkErr error
	for _, err := range s.WalkAncestors(ctx, id, 0) {
		walkErr = err
	}
	assert.ErrorIs(t, walkErr, batpak.ErrChainBroken)
	// The intact part still walks.
	n := 0
	for _, err := range s.WalkAncestors(ctx, last.ID, 0) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 2, n)
}

func mustAppendJS(t *testing.T, s batpak.EventStore, c batpak.Coordinate, p any) batpak.Receipt {
	t.Helper()
	r, err := s.Append(context.Background(), c, storetest.KindMoved, p)
	require.NoError(t, err)
	return r
}

// sourceStore fills an embedded store with what a copy must keep: single
// events over several entities, atomic batches with causes inside them,
// reactions with correlation and causation, and raw payloads. It returns
// the store, its events and its atomic units (an event appended alone, or
// a batch) by global sequence.
func sourceStore(t *testing.T, dir string) (*batpak.Store, []*batpak.StoredEvent, [][]uint64) {
	ctx := context.Background()
	s, err := batpak.Open(dir, batpak.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	var (
		units [][]uint64
		last  batpak.Receipt
	)
	for i := range 30 {
		c := event.MustCoordinate(fmt.Sprintf("acct:%d", i%4), "bank")
		switch i % 3 {
		case 0:
			last, err = s.Append(ctx, c, storetest.KindMoved, storetest.Moved{N: i})
			require.NoError(t, err)
			units = append(units, []uint64{last.Global})
		case 1:
			rs, err := s.AppendBatch(ctx, []batpak.BatchItem{
				{Coord: c, Kind: storetest.KindMoved, Payload: storetest.Moved{N: i}},
				{Coord: event.MustCoordinate("ledger:1", "bank"), Kind: storetest.KindSpoke, Payload: []byte("raw"), Cause: event.CauseItem(0)},
				{Coord: c, Kind: storetest.KindOther, Payload: storetest.Moved{N: -i}, Cause: event.CauseLatestOf("ledger:1")},
			})
			require.NoError(t, err)
			units = append(units, []uint64{rs[0].Global, rs[1].Global, rs[2].Global})
		default:
			r, err := s.AppendReaction(ctx, c, storetest.KindSpoke, storetest.Moved{N: i}, last.Correlation, last.ID)
			require.NoError(t, err)
			units = append(units, []uint64{r.Global})
		}
	}
	var all []*batpak.StoredEvent
	for ev, err := range s.Query(ctx, event.AllEvents()) {
		require.NoError(t, err)
		all = append(all, ev)
	}
	return s, all, units
}

// unitsOf reads a store's atomic units with a cursor: NextBatch of one
// returns an event appended alone or a whole batch.
func unitsOf(t *testing.T, ctx context.Context, s batpak.EventStore, n int) [][]*batpak.StoredEvent {
	cur, err := s.Cursor(event.AllEvents(), 0)
	require.NoError(t, err)
	defer cur.Close()
	var units [][]*batpak.StoredEvent
	for got := 0; got < n; {
		evs, err := cur.NextBatch(ctx, 1)
		require.NoError(t, err)
		units = append(units, evs)
		got += len(evs)
	}
	return units
}

// TestCopyFromKeepsEventsAndBatchesAndResumes copies an embedded store
// into a stream, cut short by its context after a dozen events and run
// again: the stream then holds every source event once, in order, with its
// id, coordinate, kind, payload, correlation, causation, clock readings
// and per-entity sequence, each source batch as one batch, and its chains
// verify. A third run copies nothing.
func TestCopyFromKeepsEventsAndBatchesAndResumes(t *testing.T) {
	ctx := guardCtx(t)
	srv := startServer(t)
	src, want, units := sourceStore(t, t.TempDir())
	dst := openStore(t, connect(t, srv), jetstream.Options{Stream: "COPY", Subject: "cp"})

	cut, cancel := context.WithCancel(ctx)
	rep, err := dst.CopyFrom(cut, src, jetstream.CopyOptions{Progress: func(copied int, _ uint64) {
		if copied >= 12 {
			cancel()
		}
	}})
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, rep.After)
	first := rep.Events
	require.GreaterOrEqual(t, first, 12)

	rep, err = dst.CopyFrom(ctx, src, jetstream.CopyOptions{})
	require.NoError(t, err)
	assert.Equal(t, want[first-1].Global, rep.After, "resumed after the stream's last event")
	assert.Equal(t, len(want), first+rep.Events, "every event copied once over the two runs")
	assert.Equal(t, want[len(want)-1].Global, rep.Through)

	rep, err = dst.CopyFrom(ctx, src, jetstream.CopyOptions{})
	require.NoError(t, err)
	assert.Zero(t, rep.Events, "a finished copy copies nothing more")

	var got []*batpak.StoredEvent
	for ev, err := range dst.Query(ctx, event.AllEvents()) {
		require.NoError(t, err)
		got = append(got, ev)
	}
	require.Len(t, got, len(want))
	for i, ev := range got {
		w := want[i]
		assert.Equal(t, w.ID, ev.ID)
		assert.Equal(t, w.Coordinate, ev.Coordinate)
		assert.Equal(t, w.Kind, ev.Kind)
		assert.Equal(t, w.Payload, ev.Payload)
		assert.Equal(t, w.Codec, ev.Codec)
		assert.Equal(t, w.Correlation, ev.Correlation)
		assert.Equal(t, w.Causation, ev.Causation)
		assert.Equal(t, w.Sequence, ev.Sequence)
		assert.Equal(t, w.Timestamp, ev.Timestamp)
		assert.Equal(t, w.Position, ev.Position)
	}
	var wantSizes, gotSizes []int
	for _, u := range units {
		wantSizes = append(wantSizes, len(u))
	}
	for _, u := range unitsOf(t, ctx, dst, len(want)) {
		gotSizes = append(gotSizes, len(u))
	}
	assert.Equal(t, wantSizes, gotSizes, "each source batch stored as one batch")
	vr, err := dst.Verify(ctx)
	require.NoError(t, err)
	assert.NoError(t, vr.Problem)
	assert.Equal(t, len(want), vr.Events)

	// A new append to a copied entity continues its sequence and chain.
	r, err := dst.Append(ctx, event.MustCoordinate("acct:0", "bank"), storetest.KindMoved, storetest.Moved{N: 99})
	require.NoError(t, err)
	var acct0 uint64
	for _, ev := range want {
		if ev.Coordinate.Entity() == "acct:0" {
			acct0++
		}
	}
	assert.Equal(t, acct0, r.Sequence)
}

// TestCopyFromRefusesAStreamThatIsNotACopy: a stream holding other events
// is not written to.
func TestCopyFromRefusesAStreamThatIsNotACopy(t *testing.T) {
	ctx := guardCtx(t)
	srv := startServer(t)
	src, _, _ := sourceStore(t, t.TempDir())
	dst := openStore(t, connect(t, srv), jetstream.Options{Stream: "OTHER", Subject: "ot"})
	mustAppendJS(t, dst, event.MustCoordinate("x:1", "y"), storetest.Moved{})
	_, err := dst.CopyFrom(ctx, src, jetstream.CopyOptions{})
	require.ErrorIs(t, err, jetstream.ErrNotACopy)
	n := 0
	for _, err := range dst.Query(ctx, event.AllEvents()) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 1, n, "nothing written")
}

// TestSnapshotOfAStreamRestoresIntoAnotherStream: a stream's backup is a
// store directory that VerifySnapshot accepts and CopyFrom restores into
// a new stream, events and batches alike.
func TestSnapshotOfAStreamRestoresIntoAnotherStream(t *testing.T) {
	ctx := guardCtx(t)
	srv := startServer(t)
	src, want, units := sourceStore(t, t.TempDir())
	nc := connect(t, srv)
	first := openStore(t, nc, jetstream.Options{Stream: "FIRST", Subject: "f"})
	_, err := first.CopyFrom(ctx, src, jetstream.CopyOptions{})
	require.NoError(t, err)

	dir := filepath.Join(t.TempDir(), "backup")
	man, err := first.Snapshot(ctx, dir)
	require.NoError(t, err)
	assert.Equal(t, uint64(len(want)), man.LastGlobal)
	_, err = batpak.VerifySnapshot(ctx, dir)
	require.NoError(t, err)
	backup, err := batpak.Open(dir)
	require.NoError(t, err)
	defer backup.Close()

	second := openStore(t, nc, jetstream.Options{Stream: "SECOND", Subject: "s"})
	_, err = second.CopyFrom(ctx, backup, jetstream.CopyOptions{})
	require.NoError(t, err)
	got := unitsOf(t, ctx, second, len(want))
	require.Len(t, got, len(units))
	i := 0
	for k, u := range got {
		require.Len(t, u, len(units[k]))
		for _, ev := range u {
			assert.Equal(t, want[i].ID, ev.ID)
			assert.Equal(t, want[i].Causation, ev.Causation)
			i++
		}
	}
}
