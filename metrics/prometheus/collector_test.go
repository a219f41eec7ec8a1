package prometheus_test

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	batpakprom "github.com/batpak-go/batpak/metrics/prometheus"
	"github.com/batpak-go/batpak/vfs"
)

// openStore opens an in-memory store, closed when the test ends.
func openStore(t *testing.T, opts ...batpak.Option) *batpak.Store {
	t.Helper()
	opts = append([]batpak.Option{batpak.WithFS(vfs.NewMem()), batpak.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	s, err := batpak.Open("/db", opts...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// scrape fetches url over HTTP and parses the text exposition.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// byLabel returns the metric of fam whose label name has value v.
func byLabel(t *testing.T, fam *dto.MetricFamily, name, v string) *dto.Metric {
	t.Helper()
	for _, m := range fam.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == name && l.GetValue() == v {
				return m
			}
		}
	}
	require.Failf(t, "no such metric", "%s has no metric with %s=%q", fam.GetName(), name, v)
	return nil
}

func TestScrapeAfterRealAppends(t *testing.T) {
	s := openStore(t, batpak.WithMailbox(128))
	reg := prom.NewPedanticRegistry()
	require.NoError(t, reg.Register(batpakprom.NewCollector(s, batpakprom.Opts{ConstLabels: prom.Labels{"store": "orders"}})))
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()

	ctx := context.Background()
	c := event.MustCoordinate("order:1", "shop:1")
	kind := event.MustCustom(1, 1)
	for i := range 40 {
		_, err := s.Append(ctx, c, kind, i)
		require.NoError(t, err)
	}
	for i := range 10 {
		_, err := s.AppendWithOptions(ctx, c, kind, i, batpak.AppendOptions{Durability: batpak.OnWrite})
		require.NoError(t, err)
	}
	require.NoError(t, s.Sync(ctx))

	fams := scrape(t, srv.URL)
	want := s.Metrics()

	appends := fams["batpak_append_duration_seconds"]
	require.NotNil(t, appends)
	assert.Equal(t, dto.MetricType_HISTOGRAM, appends.GetType())
	durable := byLabel(t, appends, "durability", "durable").GetHistogram()
	assert.EqualValues(t, 40, durable.GetSampleCount())
	assert.InDelta(t, float64(want.AppendDurable.Sum)*1e-9, durable.GetSampleSum(), 1e-9)
	assert.EqualValues(t, 10, byLabel(t, appends, "durability", "on_write").GetHistogram().GetSampleCount())
	byLabel(t, appends, "store", "orders") // the constant label is on every metric

	// The buckets are the store's, in seconds, and cumulative; the text
	// exposition adds +Inf, which holds every observation.
	buckets := durable.GetBucket()
	require.Len(t, buckets, len(want.AppendDurable.Bounds)+1)
	var cum uint64
	for i, b := range buckets[:len(buckets)-1] {
		cum += want.AppendDurable.Counts[i]
		assert.InDelta(t, float64(want.AppendDurable.Bounds[i])*1e-9, b.GetUpperBound(), 1e-15)
		assert.Equal(t, cum, b.GetCumulativeCount())
	}
	assert.True(t, math.IsInf(buckets[len(buckets)-1].GetUpperBound(), 1))
	assert.EqualValues(t, 40, buckets[len(buckets)-1].GetCumulativeCount())

	events := fams["batpak_fsync_events"].GetMetric()[0].GetHistogram()
	assert.EqualValues(t, 50, events.GetSampleSum(), "every event counted in the fsync that covered it")
	assert.Positive(t, fams["batpak_fsync_duration_seconds"].GetMetric()[0].GetHistogram().GetSampleCount())
	assert.EqualValues(t, 50, fams["batpak_writer_drain_requests"].GetMetric()[0].GetHistogram().GetSampleSum()-1,
		"50 appends and one Sync")

	assert.EqualValues(t, 128, fams["batpak_writer_mailbox_capacity"].GetMetric()[0].GetGauge().GetValue())
	assert.EqualValues(t, 50, fams["batpak_last_global_sequence"].GetMetric()[0].GetGauge().GetValue())
	assert.Zero(t, fams["batpak_unsynced_events"].GetMetric()[0].GetGauge().GetValue())
	assert.Positive(t, fams["batpak_recovery_duration_seconds"].GetMetric()[0].GetGauge().GetValue())
	restarts := fams["batpak_actor_restarts_total"]
	assert.Equal(t, dto.MetricType_COUNTER, restarts.GetType())
	assert.Len(t, restarts.GetMetric(), 3)
	assert.Zero(t, byLabel(t, restarts, "actor", "writer").GetCounter().GetValue())
	for _, name := range []string{"batpak_lossy_dropped_total", "batpak_fanout_overflows_total", "batpak_compactions_total",
		"batpak_compaction_duration_seconds_total", "batpak_compaction_reclaimed_bytes_total",
		"batpak_writer_mailbox_depth", "batpak_fsync_queue_depth"} {
		assert.Contains(t, fams, name)
	}
}

func TestMetricNamesPassTheLinter(t *testing.T) {
	s := openStore(t)
	problems, err := testutil.CollectAndLint(batpakprom.NewCollector(s, batpakprom.Opts{}))
	require.NoError(t, err)
	assert.Empty(t, problems)
}

func TestTwoStoresInOneRegistry(t *testing.T) {
	a, b := openStore(t), openStore(t)
	reg := prom.NewPedanticRegistry()
	require.NoError(t, reg.Register(batpakprom.NewCollector(a, batpakprom.Opts{ConstLabels: prom.Labels{"store": "a"}})))
	require.NoError(t, reg.Register(batpakprom.NewCollector(b, batpakprom.Opts{ConstLabels: prom.Labels{"store": "b"}})))
	_, err := a.Append(context.Background(), event.MustCoordinate("x:1", "y:1"), event.MustCustom(1, 1), 1)
	require.NoError(t, err)
	n, err := testutil.GatherAndCount(reg, "batpak_last_global_sequence")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Error(t, reg.Register(batpakprom.NewCollector(b, batpakprom.Opts{ConstLabels: prom.Labels{"store": "b"}})),
		"the same labels twice are refused")
}
