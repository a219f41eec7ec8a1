// Package projector folds events into state: batpak's projections, the Go
// form of the original's EventSourced trait, with freshness, caches,
// incremental apply, watches and the live projection actor.
//
// A projection is a state type whose pointer describes it and applies
// events (see EventSourced):
//
//	type Counter struct{ N int }
//
//	func (*Counter) Projection() projector.Spec {
//		return projector.Spec{
//			Name:        "counter",                      // cache and registry key
//			Version:     1,                              // bump to ignore old cached states
//			Kinds:       []event.EventKind{Incremented}, // the rest are never read
//			Incremental: true,                           // Apply is a pure fold
//		}
//	}
//
//	func (c *Counter) Apply(ev *event.StoredEvent) error { c.N++; return nil }
//
// and the store folds an entity's events into it on the caller's goroutine:
//
//	n, err := batpak.Project[Counter](ctx, store, "counter:1", batpak.Consistent)
//	n, err = batpak.Project[Counter](ctx, store, "counter:1", batpak.MaybeStale(time.Second),
//		batpak.FromCache(cache))
//
// # Caches
//
// A Cache keeps encoded states keyed by projection name, schema version and
// subject, each with its watermark (the global sequence it is complete
// through). NoCache (the default) keeps nothing; MemoryCache is a bounded
// LRU; FileCache keeps one file per key, written atomically and checked on
// every read, so states survive a restart and a damaged file is replayed
// over. With a cached state at watermark w, a Consistent projection applies
// only the events after w when the spec is Incremental; otherwise it reuses
// the state only while nothing relevant arrived after w. A state the log
// can no longer back — w beyond the log's head, or the event at w gone, as
// after a crash took the log's unsynced tail while the cache kept a state
// that counted it — is replayed over. A cache is advisory: a failing or
// corrupt cache slows a projection down, never fails it.
//
// # As of a position
//
// Options.AsOf (batpak.AsOf) projects the state exactly as it was at a
// global position — every event up to it, none after — for replays and
// disputes. A cached state newer than the position is neither used nor
// replaced; an older one is extended up to it.
//
// # Live projections
//
// A Watch (batpak.WatchProjection) is a pull stream of an entity's state:
// each Next returns the next changed state. It is woken by a lossy
// subscription and reads the log from its watermark on every wake-up, so it
// converges even when notifications are dropped.
//
// A Projector (batpak.NewProjector) is the projection actor's host: it runs
// registered Live projections — one entity, or a read model over a whole
// region — each as a supervised service that builds its state from the log
// and then follows a cursor. A crashed projection is restarted and rebuilt
// from the log; readers never see a half-applied batch (an atomic batch's
// events reach a projection in one read of its feed, applied under one
// lock). WaitApplied gives read-your-writes:
//
//	p, _ := batpak.NewProjector(store)
//	defer p.Close()
//	board, _ := projector.Register[Leaderboard](p, "", projector.Over(event.ForEntity("player:*")))
//	r, _ := store.Append(ctx, coord, scored, points)
//	_ = p.WaitApplied(ctx, "leaderboard", r.Global)
//	u, _ := board.Snapshot(ctx) // includes the append
//
// The package depends on the store only through the Log and Source
// interfaces, which each backend implements (batpak.EventStore's
// ProjectionLog) and tests fake.
package projector
