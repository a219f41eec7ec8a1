// Package otel exports a batpak store's metrics to OpenTelemetry. The
// store keeps its own lock-free instruments (package metrics), so the
// exporter only reads a snapshot when the SDK collects, and the append
// path pays nothing more.
//
// OpenTelemetry's metric API has asynchronous counters and gauges but no
// asynchronous histogram: a histogram is fed one measurement at a time.
// Feeding one from the store would mean calling into the SDK on every
// append, which is what the store's own counters exist to avoid, and
// re-recording a snapshot's buckets as measurements would distort them.
// So the figures come in two parts:
//
//   - Register puts the gauges and counters (queue depths, drops,
//     restarts, recovery and compaction) on any metric.Meter, as
//     asynchronous instruments that read one snapshot per collection. It
//     needs only the API.
//
//   - NewProducer returns an SDK metric.Producer that hands a reader the
//     histograms (append and fsync latency, events per fsync, requests per
//     drain) as they are: explicit-bucket histograms with the store's
//     bounds, cumulative since the store opened. Give it to a reader with
//     sdkmetric.WithProducer.
//
//     reader := sdkmetric.NewPeriodicReader(exporter, sdkmetric.WithProducer(batpakotel.NewProducer(store)))
//     provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
//     reg, err := batpakotel.Register(provider.Meter("batpak"), store)
//     ...
//     defer reg.Unregister()
//
// docs/METRICS.md lists every instrument, its unit and meaning. Pass
// attributes (a store's name, say) to both when a process has several
// stores.
package otel
