package batpak

import (
	"time"

	"github.com/batpak-go/batpak/metrics"
)

// Metrics returns the store's figures now: latency and size histograms,
// queue depths, drops, restarts, recovery and compaction time (package
// metrics describes each; docs/METRICS.md lists them with their units).
// The store counts them as it works — an append pays a clock reading and
// two atomic adds — and this reads them without stopping anything: it is
// cheap enough to call at every scrape. On a read-only store only the
// recovery time and LastGlobal are set; on a closed one the figures stay
// as they were at Close.
func (s *Store) Metrics() metrics.Snapshot {
	m := metrics.Snapshot{
		Since: s.metrics.Started,

		AppendDurable:  s.metrics.AppendDurable.Read(),
		AppendOnWrite:  s.metrics.AppendOnWrite.Read(),
		Fsync:          s.metrics.Fsync.Read(),
		EventsPerFsync: s.metrics.EventsPerFsync.Read(),
		DrainRequests:  s.metrics.DrainRequests.Read(),

		LastGlobal: s.idx.LastGlobal(),
		Recovery:   s.report.Duration,

		Compactions:              s.metrics.Compactions.Load(),
		CompactionTime:           time.Duration(s.metrics.CompactionNanos.Load()),
		CompactionBytesReclaimed: s.metrics.CompactionBytesReclaimed.Load(),
	}
	if s.readOnly {
		return m
	}
	m.MailboxDepth, m.MailboxCapacity = s.w.Mailbox().Len(), s.cfg.w.Mailbox
	m.FsyncQueue, m.Unsynced = s.fsync.Inflight(), s.fsync.Unsynced()
	_, m.LossyDropped = s.hub.LossyTotals()
	m.FanoutOverflows = s.hub.Fanout().Overflows()
	m.WriterRestarts = s.sup.Restarts("writer")
	m.FsyncRestarts = s.sup.Restarts("fsync")
	m.FanoutRestarts = s.sup.Restarts("fanout")
	return m
}
