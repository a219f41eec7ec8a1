package otel

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/batpak-go/batpak/metrics"
)

// ScopeName is the instrumentation scope of the histograms NewProducer
// produces.
const ScopeName = "github.com/batpak-go/batpak/metrics/otel"

// Producer hands an SDK reader src's histograms (see the package doc).
type Producer struct {
	src   Source
	attrs []attribute.KeyValue
}

var _ sdkmetric.Producer = (*Producer)(nil)

// NewProducer returns a producer of src's histograms, with attrs on every
// data point. Give it to a reader with sdkmetric.WithProducer.
func NewProducer(src Source, attrs ...attribute.KeyValue) *Producer {
	return &Producer{src: src, attrs: attrs}
}

// Produce takes one snapshot of the store's metrics and returns its
// histograms, cumulative since the store opened.
func (p *Producer) Produce(context.Context) ([]metricdata.ScopeMetrics, error) {
	m := p.src.Metrics()
	now := time.Now()
	with := func(kv ...attribute.KeyValue) attribute.Set {
		return attribute.NewSet(append(p.attrs[:len(p.attrs):len(p.attrs)], kv...)...)
	}
	return []metricdata.ScopeMetrics{{
		Scope: instrumentation.Scope{Name: ScopeName},
		Metrics: []metricdata.Metrics{
			{
				Name: "batpak.append.duration", Unit: "s",
				Description: "Latency of blocking appends and batches as their callers see them, by the durability they were acknowledged with.",
				Data: metricdata.Histogram[float64]{
					Temporality: metricdata.CumulativeTemporality,
					DataPoints: []metricdata.HistogramDataPoint[float64]{
						seconds(m.AppendDurable, with(attribute.String("durability", "durable")), m.Since, now),
						seconds(m.AppendOnWrite, with(attribute.String("durability", "on_write")), m.Since, now),
					},
				},
			},
			{
				Name: "batpak.fsync.duration", Unit: "s",
				Description: "Latency of each fsync of a segment file.",
				Data: metricdata.Histogram[float64]{
					Temporality: metricdata.CumulativeTemporality,
					DataPoints:  []metricdata.HistogramDataPoint[float64]{seconds(m.Fsync, with(), m.Since, now)},
				},
			},
			{
				Name: "batpak.fsync.events", Unit: "{event}",
				Description: "Events made durable by each of the fsync actor's syncs (the group commit's size).",
				Data: metricdata.Histogram[int64]{
					Temporality: metricdata.CumulativeTemporality,
					DataPoints:  []metricdata.HistogramDataPoint[int64]{sizes(m.EventsPerFsync, with(), m.Since, now)},
				},
			},
			{
				Name: "batpak.writer.drain.requests", Unit: "{request}",
				Description: "Requests the writer took from its mailbox at once.",
				Data: metricdata.Histogram[int64]{
					Temporality: metricdata.CumulativeTemporality,
					DataPoints:  []metricdata.HistogramDataPoint[int64]{sizes(m.DrainRequests, with(), m.Since, now)},
				},
			},
		},
	}}, nil
}

// seconds converts a histogram of nanoseconds into a data point in seconds.
func seconds(h metrics.Histogram, attrs attribute.Set, start, now time.Time) metricdata.HistogramDataPoint[float64] {
	return metricdata.HistogramDataPoint[float64]{
		Attributes: attrs, StartTime: start, Time: now,
		Count: h.Count, Bounds: bounds(h, 1e-9), BucketCounts: h.Counts, Sum: float64(h.Sum) * 1e-9,
	}
}

// sizes converts a histogram of counts into a data point.
func sizes(h metrics.Histogram, attrs attribute.Set, start, now time.Time) metricdata.HistogramDataPoint[int64] {
	return metricdata.HistogramDataPoint[int64]{
		Attributes: attrs, StartTime: start, Time: now,
		Count: h.Count, Bounds: bounds(h, 1), BucketCounts: h.Counts, Sum: int64(h.Sum),
	}
}

func bounds(h metrics.Histogram, scale float64) []float64 {
	b := make([]float64, len(h.Bounds))
	for i, v := range h.Bounds {
		b[i] = float64(v) * scale
	}
	return b
}
