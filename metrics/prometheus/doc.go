// Package prometheus exports a batpak store's metrics to Prometheus: a
// prometheus.Collector that reads Store.Metrics each time it is scraped.
// The store keeps its own lock-free instruments, so a scrape costs one
// snapshot and the append path nothing more.
//
//	reg := prometheus.NewRegistry() // github.com/prometheus/client_golang/prometheus
//	reg.MustRegister(batpakprom.NewCollector(store, batpakprom.Opts{}))
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// Histograms are Prometheus histograms whose buckets are the store's own
// (bounds doubling from 256 ns to about 69 s for latencies, from 1 to
// 2^20 for sizes; package metrics), converted to seconds. Every metric,
// its type, unit and meaning is listed in docs/METRICS.md; the names are
// those of Opts.Namespace (default "batpak") followed by:
//
//	append_duration_seconds{durability}  histogram  blocking appends, by durability ("durable", "on_write")
//	fsync_duration_seconds               histogram  segment fsyncs
//	fsync_events                         histogram  events made durable per fsync
//	writer_drain_requests                histogram  requests per writer drain
//	writer_mailbox_depth                 gauge      requests waiting for the writer
//	writer_mailbox_capacity              gauge      the mailbox's bound
//	fsync_queue_depth                    gauge      flushes handed to the fsync actor, not released
//	unsynced_events                      gauge      on-write events visible, not yet fsynced
//	last_global_sequence                 gauge      the newest visible event's global sequence
//	lossy_dropped_total                  counter    notifications lossy subscriptions dropped
//	fanout_overflows_total               counter    publications read back from the index
//	actor_restarts_total{actor}          counter    restarts of "writer", "fsync", "fanout"
//	recovery_duration_seconds            gauge      how long Open took to recover the log
//	compactions_total                    counter    compactions finished
//	compaction_duration_seconds_total    counter    time spent compacting
//	compaction_reclaimed_bytes_total     counter    disk space compaction gave back
//
// Several stores in one process each get a collector with ConstLabels that
// tell them apart (a registry refuses two collectors of the same metrics
// and labels).
package prometheus
