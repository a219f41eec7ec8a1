// Package event holds batpak's value types: coordinates, event kinds, ids,
// headers (the global and per-entity sequences, the hybrid-logical-clock
// position), hash chains, regions, and the stored-event, receipt,
// notification and imported-event shapes that every other package passes
// around. It also defines what the packages below the facade construct and
// the facade returns as it is: the typed errors with their sentinels
// (CorruptionError, SequenceMismatchError, BatchItemError, ForeignDirError,
// CoordinateError) and the recovery and verify reports.
//
// The types here are plain values with no I/O and no goroutines. A
// [Coordinate] addresses an event by entity and scope:
//
//	coord, err := event.NewCoordinate("player:alice", "room:dungeon")
//	if err != nil {
//		// err is a *CoordinateError naming the field and the rule broken
//	}
//	kind := event.MustCustom(0x1, 0x001) // category 1, type 1
//	region := event.AllEvents().WithEntityPrefix("player:").WithScope("room:dungeon")
//	_ = region.Matches(coord, kind, 0) // true
package event
