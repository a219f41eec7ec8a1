package otel

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/batpak-go/batpak/metrics"
)

// Source is what the exporter reads: *batpak.Store is one.
type Source interface {
	Metrics() metrics.Snapshot
}

// Register creates on meter an asynchronous instrument for each gauge and
// counter of src's metrics, and one callback that takes a single snapshot
// per collection and observes them all, with attrs on every observation.
// Unregister the returned registration when the store closes.
func Register(meter metric.Meter, src Source, attrs ...attribute.KeyValue) (metric.Registration, error) {
	var (
		errs []error
		obs  []metric.Observable
	)
	gauge := func(name, unit, desc string) metric.Int64ObservableGauge {
		g, err := meter.Int64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs, obs = append(errs, err), append(obs, g)
		return g
	}
	counter := func(name, unit, desc string) metric.Int64ObservableCounter {
		c, err := meter.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs, obs = append(errs, err), append(obs, c)
		return c
	}
	mailboxDepth := gauge("batpak.writer.mailbox.depth", "{request}", "Requests waiting in the writer's mailbox.")
	mailboxCap := gauge("batpak.writer.mailbox.capacity", "{request}", "The writer mailbox's bound.")
	fsyncQueue := gauge("batpak.fsync.queue.depth", "{flush}", "Flushes handed to the fsync actor and not yet released.")
	unsynced := gauge("batpak.events.unsynced", "{event}", "On-write events visible but not yet covered by an fsync.")
	lastGlobal := gauge("batpak.events.last_global_sequence", "{event}", "Global sequence of the newest visible event.")
	dropped := counter("batpak.lossy.dropped", "{notification}", "Notifications lossy subscriptions dropped for want of room.")
	overflows := counter("batpak.fanout.overflows", "{publication}", "Publications the fan-out mailbox had no room for (read back from the index).")
	restarts := counter("batpak.actor.restarts", "{restart}", "Restarts of an actor after a crash.")
	compactions := counter("batpak.compactions", "{compaction}", "Compactions finished.")
	reclaimed := counter("batpak.compaction.reclaimed", "By", "Disk space compactions gave back.")
	recovery, err := meter.Float64ObservableGauge("batpak.recovery.duration", metric.WithUnit("s"),
		metric.WithDescription("How long Open took to recover the log."))
	errs, obs = append(errs, err), append(obs, recovery)
	compactionTime, err := meter.Float64ObservableCounter("batpak.compaction.duration", metric.WithUnit("s"),
		metric.WithDescription("Time spent in finished compactions."))
	errs, obs = append(errs, err), append(obs, compactionTime)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	set := metric.WithAttributeSet(attribute.NewSet(attrs...))
	actor := func(name string) metric.ObserveOption {
		return metric.WithAttributeSet(attribute.NewSet(append(attrs[:len(attrs):len(attrs)], attribute.String("actor", name))...))
	}
	writer, fsync, fanout := actor("writer"), actor("fsync"), actor("fanout")
	return meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		m := src.Metrics()
		o.ObserveInt64(mailboxDepth, int64(m.MailboxDepth), set)
		o.ObserveInt64(mailboxCap, int64(m.MailboxCapacity), set)
		o.ObserveInt64(fsyncQueue, int64(m.FsyncQueue), set)
		o.ObserveInt64(unsynced, m.Unsynced, set)
		o.ObserveInt64(lastGlobal, int64(m.LastGlobal), set)
		o.ObserveInt64(dropped, int64(m.LossyDropped), set)
		o.ObserveInt64(overflows, int64(m.FanoutOverflows), set)
		o.ObserveInt64(restarts, int64(m.WriterRestarts), writer)
		o.ObserveInt64(restarts, int64(m.FsyncRestarts), fsync)
		o.ObserveInt64(restarts, int64(m.FanoutRestarts), fanout)
		o.ObserveInt64(compactions, m.Compactions, set)
		o.ObserveInt64(reclaimed, m.CompactionBytesReclaimed, set)
		o.ObserveFloat64(recovery, m.Recovery.Seconds(), set)
		o.ObserveFloat64(compactionTime, m.CompactionTime.Seconds(), set)
		return nil
	}, obs...)
}
