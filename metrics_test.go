package batpak_test

import (
	"bytes"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/metrics"
	"github.com/batpak-go/batpak/vfs"
)

// appendN appends n events to one entity with durability d.
func appendN(t *testing.T, s *batpak.Store, n int, d batpak.Durability) {
	t.Helper()
	c := event.MustCoordinate("player:metrics", "room:1")
	for i := range n {
		_, err := s.AppendWithOptions(bg, c, kindMoved, i, batpak.AppendOptions{Durability: d})
		require.NoError(t, err)
	}
}

func TestMetricsCountAppendsFsyncsAndDrainsByDurability(t *testing.T) {
	s := openStore(t, memDir, batpak.WithFS(vfs.NewMem()), batpak.WithMailbox(64))
	appendN(t, s, 50, batpak.Durable)

	m := s.Metrics()
	assert.EqualValues(t, 50, m.AppendDurable.Count, "one observation per blocking durable append")
	assert.Zero(t, m.AppendOnWrite.Count)
	assert.Positive(t, m.AppendDurable.Sum, "latencies are in nanoseconds and never all zero")
	// One caller at a time: every append is its own drain and its own
	// group commit, and each event is counted in the fsync that covered it.
	assert.EqualValues(t, 50, m.DrainRequests.Count)
	assert.EqualValues(t, 50, m.DrainRequests.Sum)
	assert.EqualValues(t, 50, m.EventsPerFsync.Sum, "every durable event in exactly one fsync's group")
	assert.EqualValues(t, m.EventsPerFsync.Count, m.Fsync.Count, "each group commit is one segment fsync here")
	assert.Positive(t, m.Fsync.Sum)
	assert.Equal(t, 64, m.MailboxCapacity)
	assert.EqualValues(t, 50, m.LastGlobal)
	assert.Zero(t, m.Unsynced)

	appendN(t, s, 30, batpak.OnWrite)
	m = s.Metrics()
	assert.EqualValues(t, 30, m.AppendOnWrite.Count)
	assert.EqualValues(t, 50, m.AppendDurable.Count)
	require.NoError(t, s.Sync(bg))
	m = s.Metrics()
	assert.Zero(t, m.Unsynced)
	assert.EqualValues(t, 80, m.EventsPerFsync.Sum, "on-write events counted once, by the fsync that covered them")

	for _, h := range []metrics.Histogram{m.AppendDurable, m.AppendOnWrite, m.Fsync, m.EventsPerFsync, m.DrainRequests} {
		require.Len(t, h.Counts, len(h.Bounds)+1)
		var sum uint64
		for _, c := range h.Counts {
			sum += c
		}
		assert.Equal(t, h.Count, sum, "Count is the sum of the buckets")
	}
}

func TestMetricsTimeBatchesAsOneWrite(t *testing.T) {
	s := openStore(t, memDir, batpak.WithFS(vfs.NewMem()), batpak.WithDurability(batpak.OnWrite))
	c := event.MustCoordinate("player:batch", "room:1")
	items := make([]batpak.BatchItem, 10)
	for i := range items {
		items[i] = batpak.BatchItem{Coord: c, Kind: kindMoved, Payload: i}
	}
	_, err := s.AppendBatch(bg, items)
	require.NoError(t, err)
	m := s.Metrics()
	assert.EqualValues(t, 1, m.AppendOnWrite.Count, "a batch is one observation, under the store's default durability")
	assert.Zero(t, m.AppendDurable.Count)
	assert.EqualValues(t, 10, m.LastGlobal)
}

func TestMetricsCountLossyDrops(t *testing.T) {
	s := openStore(t, memDir, batpak.WithFS(vfs.NewMem()))
	sub, err := s.Subscribe(event.AllEvents(), 1)
	require.NoError(t, err)
	defer sub.Close()
	appendN(t, s, 50, batpak.Durable)
	// The fan-out delivers asynchronously; Close has it deliver everything
	// published first, and the counts outlive the store.
	closeStore(t, s)
	m := s.Metrics()
	assert.Positive(t, m.LossyDropped, "nobody reads the subscription of capacity 1")
	assert.Equal(t, s.Diagnostics().Dropped, m.LossyDropped)
}

func TestMetricsCountRecoveryAndCompaction(t *testing.T) {
	fs := vfs.NewMem()
	s := openStore(t, memDir, batpak.WithFS(fs), batpak.WithSegmentSize(64<<10))
	c := event.MustCoordinate("player:big", "room:1")
	for range 400 {
		_, err := s.Append(bg, c, kindMoved, bytes.Repeat([]byte{1}, 400))
		require.NoError(t, err)
	}
	m := s.Metrics()
	assert.Zero(t, m.Compactions)

	rep, err := s.Compact(bg, batpak.CompactOptions{
		Retain: func(ev *batpak.StoredEvent) bool { return ev.Global > 200 }, TargetSize: 1 << 20,
	})
	require.NoError(t, err)
	require.Positive(t, rep.EventsDropped)
	m = s.Metrics()
	assert.EqualValues(t, 1, m.Compactions)
	assert.Equal(t, rep.Duration, m.CompactionTime)
	assert.Equal(t, rep.BytesBefore-rep.BytesAfter, m.CompactionBytesReclaimed)
	assert.Positive(t, m.CompactionBytesReclaimed)
	closeStore(t, s)

	s2 := openStore(t, memDir, batpak.WithFS(fs))
	m = s2.Metrics()
	assert.Equal(t, s2.Stats().Recovery.Duration, m.Recovery)
	assert.Positive(t, m.Recovery)
	assert.Zero(t, m.AppendDurable.Count, "histograms count since Open")
}

func TestMetricsCountActorRestarts(t *testing.T) {
	var armed atomic.Bool
	s := openStore(t, memDir, batpak.WithFS(vfs.NewMem()), batpak.WithInjection(func(p batpak.InjectionPoint) error {
		if p == batpak.InjectBeforeWrite && armed.CompareAndSwap(true, false) {
			panic("injected writer crash")
		}
		return nil
	}))
	armed.Store(true)
	_, err := s.Append(bg, event.MustCoordinate("player:1", "room:1"), kindMoved, 1)
	require.ErrorIs(t, err, batpak.ErrNotWritten)
	appendN(t, s, 1, batpak.Durable) // answered by the restarted writer
	m := s.Metrics()
	assert.Equal(t, 1, m.WriterRestarts)
	assert.Zero(t, m.FsyncRestarts)
	assert.Zero(t, m.FanoutRestarts)
}

func TestMetricsOfAReadOnlyStoreAndAfterClose(t *testing.T) {
	fs := vfs.NewMem()
	s := openStore(t, memDir, batpak.WithFS(fs))
	appendN(t, s, 5, batpak.Durable)
	closeStore(t, s)
	assert.EqualValues(t, 5, s.Metrics().AppendDurable.Count, "a closed store keeps its figures")

	ro, err := batpak.OpenReadOnly(memDir, batpak.WithFS(fs), quiet)
	require.NoError(t, err)
	defer ro.Close()
	m := ro.Metrics()
	assert.EqualValues(t, 5, m.LastGlobal)
	assert.Zero(t, m.MailboxCapacity)
	assert.Zero(t, m.AppendDurable.Count)
}

func TestMetricsEncodeAsJSONForExpvar(t *testing.T) {
	s := openStore(t, memDir, batpak.WithFS(vfs.NewMem()))
	appendN(t, s, 3, batpak.Durable)
	b, err := json.Marshal(s.Metrics())
	require.NoError(t, err)
	var back metrics.Snapshot
	require.NoError(t, json.Unmarshal(b, &back))
	assert.EqualValues(t, 3, back.AppendDurable.Count)
	assert.Equal(t, s.Metrics().AppendDurable.Bounds, back.AppendDurable.Bounds)
	assert.Greater(t, back.Recovery, time.Duration(0))
}
