package prometheus

import (
	"time"

	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/batpak-go/batpak/metrics"
)

// Source is what a Collector reads: *batpak.Store is one.
type Source interface {
	Metrics() metrics.Snapshot
}

// Opts names a Collector's metrics.
type Opts struct {
	// Namespace prefixes every metric name (default "batpak").
	Namespace string
	// ConstLabels are added to every metric: give each store its own when
	// one registry collects several.
	ConstLabels prom.Labels
}

// Collector is a prometheus.Collector of one store's metrics. It is safe
// for concurrent scrapes.
type Collector struct {
	src Source

	appendLatency, fsyncLatency, fsyncEvents, drainRequests *prom.Desc

	mailboxDepth, mailboxCapacity, fsyncQueue, unsynced, lastGlobal *prom.Desc

	dropped, overflows, restarts *prom.Desc

	recovery, compactions, compactionTime, compactionReclaimed *prom.Desc
}

// NewCollector returns a collector reading src's metrics at each scrape.
func NewCollector(src Source, opts Opts) *Collector {
	ns := opts.Namespace
	if ns == "" {
		ns = "batpak"
	}
	desc := func(name, help string, labels ...string) *prom.Desc {
		return prom.NewDesc(prom.BuildFQName(ns, "", name), help, labels, opts.ConstLabels)
	}
	return &Collector{
		src: src,

		appendLatency: desc("append_duration_seconds", "Latency of blocking appends and batches as their callers see them, by the durability they were acknowledged with.", "durability"),
		fsyncLatency:  desc("fsync_duration_seconds", "Latency of each fsync of a segment file."),
		fsyncEvents:   desc("fsync_events", "Events made durable by each of the fsync actor's syncs (the group commit's size)."),
		drainRequests: desc("writer_drain_requests", "Requests the writer took from its mailbox at once."),

		mailboxDepth:    desc("writer_mailbox_depth", "Requests waiting in the writer's mailbox."),
		mailboxCapacity: desc("writer_mailbox_capacity", "The writer mailbox's bound."),
		fsyncQueue:      desc("fsync_queue_depth", "Flushes handed to the fsync actor and not yet released."),
		unsynced:        desc("unsynced_events", "On-write events visible but not yet covered by an fsync."),
		lastGlobal:      desc("last_global_sequence", "Global sequence of the newest visible event."),

		dropped:   desc("lossy_dropped_total", "Notifications lossy subscriptions dropped for want of room."),
		overflows: desc("fanout_overflows_total", "Publications the fan-out mailbox had no room for (read back from the index)."),
		restarts:  desc("actor_restarts_total", "Restarts of an actor after a crash.", "actor"),

		recovery:            desc("recovery_duration_seconds", "How long Open took to recover the log."),
		compactions:         desc("compactions_total", "Compactions finished."),
		compactionTime:      desc("compaction_duration_seconds_total", "Time spent in finished compactions."),
		compactionReclaimed: desc("compaction_reclaimed_bytes_total", "Disk space compactions gave back."),
	}
}

// Describe sends every metric's description.
func (c *Collector) Describe(ch chan<- *prom.Desc) {
	for _, d := range []*prom.Desc{
		c.appendLatency, c.fsyncLatency, c.fsyncEvents, c.drainRequests,
		c.mailboxDepth, c.mailboxCapacity, c.fsyncQueue, c.unsynced, c.lastGlobal,
		c.dropped, c.overflows, c.restarts,
		c.recovery, c.compactions, c.compactionTime, c.compactionReclaimed,
	} {
		ch <- d
	}
}

// Collect takes one snapshot of the store's metrics and sends them.
func (c *Collector) Collect(ch chan<- prom.Metric) {
	m := c.src.Metrics()
	ch <- histogram(c.appendLatency, m.AppendDurable, 1e-9, m.Since, "durable")
	ch <- histogram(c.appendLatency, m.AppendOnWrite, 1e-9, m.Since, "on_write")
	ch <- histogram(c.fsyncLatency, m.Fsync, 1e-9, m.Since)
	ch <- histogram(c.fsyncEvents, m.EventsPerFsync, 1, m.Since)
	ch <- histogram(c.drainRequests, m.DrainRequests, 1, m.Since)

	gauge := func(d *prom.Desc, v float64, labels ...string) {
		ch <- prom.MustNewConstMetric(d, prom.GaugeValue, v, labels...)
	}
	counter := func(d *prom.Desc, v float64, labels ...string) {
		ch <- prom.MustNewConstMetricWithCreatedTimestamp(d, prom.CounterValue, v, m.Since, labels...)
	}
	gauge(c.mailboxDepth, float64(m.MailboxDepth))
	gauge(c.mailboxCapacity, float64(m.MailboxCapacity))
	gauge(c.fsyncQueue, float64(m.FsyncQueue))
	gauge(c.unsynced, float64(m.Unsynced))
	gauge(c.lastGlobal, float64(m.LastGlobal))

	counter(c.dropped, float64(m.LossyDropped))
	counter(c.overflows, float64(m.FanoutOverflows))
	counter(c.restarts, float64(m.WriterRestarts), "writer")
	counter(c.restarts, float64(m.FsyncRestarts), "fsync")
	counter(c.restarts, float64(m.FanoutRestarts), "fanout")

	gauge(c.recovery, m.Recovery.Seconds())
	counter(c.compactions, float64(m.Compactions))
	counter(c.compactionTime, m.CompactionTime.Seconds())
	counter(c.compactionReclaimed, float64(m.CompactionBytesReclaimed))
}

// histogram converts a snapshot histogram into a Prometheus one: its
// bounds and sum scaled by scale (1e-9 turns nanoseconds into seconds),
// its counts made cumulative as Prometheus buckets are, created when the
// store opened.
func histogram(d *prom.Desc, h metrics.Histogram, scale float64, created time.Time, labels ...string) prom.Metric {
	buckets := make(map[float64]uint64, len(h.Bounds))
	var cum uint64
	for i, b := range h.Bounds {
		cum += h.Counts[i]
		buckets[float64(b)*scale] = cum
	}
	return prom.MustNewConstHistogramWithCreatedTimestamp(d, h.Count, float64(h.Sum)*scale, buckets, created, labels...)
}
