// Package metrics holds the figures a store reports about itself: latency
// and size histograms, queue depths, drops, restarts, recovery and
// compaction time. Store.Metrics returns a Snapshot at any moment; the
// store keeps its instruments itself, so taking a snapshot reads a few
// hundred atomic counters and the hot path pays a few atomic adds per
// append (docs/METRICS.md lists every figure, with its unit and meaning,
// and says what instrumentation costs).
//
// The package has no dependency. Exporters are modules of their own:
// github.com/batpak-go/batpak/metrics/prometheus (a Prometheus collector)
// and github.com/batpak-go/batpak/metrics/otel (OpenTelemetry instruments).
// Both read a Snapshot when scraped or collected, as anything else can:
//
//	m := store.Metrics()
//	fmt.Printf("p99 durable append %v over %d appends\n",
//		time.Duration(m.AppendDurable.Quantile(0.99)), m.AppendDurable.Count)
//
// A snapshot encodes as JSON, so publishing it with expvar is one line:
//
//	expvar.Publish("batpak", expvar.Func(func() any { return store.Metrics() }))
//
// # Histograms
//
// Every histogram has fixed buckets whose bounds double from one to the
// next (Histogram.Bounds): a value v is counted in the first bucket whose
// bound is at least v, and past the last bound in an overflow bucket.
// Latencies are in nanoseconds, from 256 ns to 2^36 ns (about 69 s);
// sizes (events per fsync, requests per drain) from 1 to 2^20. Fixed,
// doubling buckets are what lets the store count with one atomic add and
// no lock; their price is resolution: a quantile is known to within a
// factor of two, and Quantile interpolates inside the bucket.
package metrics
