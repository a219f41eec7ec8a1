package otel_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	batpakotel "github.com/batpak-go/batpak/metrics/otel"
	"github.com/batpak-go/batpak/vfs"
)

// openStore opens an in-memory store, closed when the test ends.
func openStore(t *testing.T) *batpak.Store {
	t.Helper()
	s, err := batpak.Open("/db", batpak.WithFS(vfs.NewMem()), batpak.WithLogger(slog.New(slog.DiscardHandler)),
		batpak.WithMailbox(256), batpak.WithSyncEvery(0, 0)) // on-write events stay unsynced until Sync
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// collect reads every metric through a manual reader.
func collect(t *testing.T, r *sdkmetric.ManualReader) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	out := make(map[string]metricdata.Metrics)
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

func TestReadTheFiguresAfterRealAppends(t *testing.T) {
	s := openStore(t)
	store := attribute.String("store", "orders")
	reader := sdkmetric.NewManualReader(sdkmetric.WithProducer(batpakotel.NewProducer(s, store)))
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { require.NoError(t, provider.Shutdown(context.Background())) }()
	reg, err := batpakotel.Register(provider.Meter("test"), s, store)
	require.NoError(t, err)
	defer func() { require.NoError(t, reg.Unregister()) }()

	ctx := context.Background()
	c := event.MustCoordinate("order:1", "shop:1")
	kind := event.MustCustom(1, 1)
	for i := range 25 {
		_, err := s.Append(ctx, c, kind, i)
		require.NoError(t, err)
	}
	for i := range 5 {
		_, err := s.AppendWithOptions(ctx, c, kind, i, batpak.AppendOptions{Durability: batpak.OnWrite})
		require.NoError(t, err)
	}
	got := collect(t, reader)
	want := s.Metrics()

	// Histograms, from the producer.
	appends, ok := got["batpak.append.duration"].Data.(metricdata.Histogram[float64])
	require.True(t, ok, "append latency is a float64 histogram")
	assert.Equal(t, "s", got["batpak.append.duration"].Unit)
	assert.Equal(t, metricdata.CumulativeTemporality, appends.Temporality)
	require.Len(t, appends.DataPoints, 2)
	for _, dp := range appends.DataPoints {
		v, _ := dp.Attributes.Value("store")
		assert.Equal(t, "orders", v.AsString())
		d, _ := dp.Attributes.Value("durability")
		h := want.AppendDurable
		if d.AsString() == "on_write" {
			h = want.AppendOnWrite
		}
		assert.Equal(t, h.Count, dp.Count, d.AsString())
		assert.Equal(t, h.Counts, dp.BucketCounts)
		require.Len(t, dp.Bounds, len(h.Bounds))
		assert.InDelta(t, 256e-9, dp.Bounds[0], 1e-15, "the store's first bound, in seconds")
		assert.Equal(t, want.Since, dp.StartTime, "cumulative since the store opened")
	}
	assert.EqualValues(t, 25, pointOf(t, appends, "durable").Count)
	assert.EqualValues(t, 5, pointOf(t, appends, "on_write").Count)

	events := got["batpak.fsync.events"].Data.(metricdata.Histogram[int64]).DataPoints[0]
	assert.EqualValues(t, 25, events.Sum, "each durable event counted in the fsync that covered it")
	assert.Positive(t, got["batpak.fsync.duration"].Data.(metricdata.Histogram[float64]).DataPoints[0].Count)
	assert.EqualValues(t, 30, got["batpak.writer.drain.requests"].Data.(metricdata.Histogram[int64]).DataPoints[0].Sum)

	// Gauges and counters, from the meter.
	assert.EqualValues(t, 256, gaugeOf(t, got, "batpak.writer.mailbox.capacity"))
	assert.EqualValues(t, 30, gaugeOf(t, got, "batpak.events.last_global_sequence"))
	assert.EqualValues(t, 5, gaugeOf(t, got, "batpak.events.unsynced"), "five on-write events not yet synced")
	restarts := got["batpak.actor.restarts"].Data.(metricdata.Sum[int64])
	assert.True(t, restarts.IsMonotonic)
	assert.Len(t, restarts.DataPoints, 3, "one per actor")
	recovery := got["batpak.recovery.duration"].Data.(metricdata.Gauge[float64]).DataPoints[0]
	assert.InDelta(t, want.Recovery.Seconds(), recovery.Value, 1e-12)
	for _, name := range []string{"batpak.writer.mailbox.depth", "batpak.fsync.queue.depth", "batpak.lossy.dropped",
		"batpak.fanout.overflows", "batpak.compactions", "batpak.compaction.reclaimed", "batpak.compaction.duration"} {
		assert.Contains(t, got, name)
	}

	require.NoError(t, s.Sync(ctx))
	assert.Zero(t, gaugeOf(t, collect(t, reader), "batpak.events.unsynced"), "a second collection reads a new snapshot")
}

func pointOf(t *testing.T, h metricdata.Histogram[float64], durability string) metricdata.HistogramDataPoint[float64] {
	t.Helper()
	for _, dp := range h.DataPoints {
		if v, _ := dp.Attributes.Value("durability"); v.AsString() == durability {
			return dp
		}
	}
	require.Failf(t, "no data point", "durability %q", durability)
	return metricdata.HistogramDataPoint[float64]{}
}

func gaugeOf(t *testing.T, got map[string]metricdata.Metrics, name string) int64 {
	t.Helper()
	g, ok := got[name].Data.(metricdata.Gauge[int64])
	require.True(t, ok, "%s is an int64 gauge", name)
	require.Len(t, g.DataPoints, 1)
	return g.DataPoints[0].Value
}
