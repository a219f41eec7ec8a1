// Package event holds batpak's value types: coordinates, event kinds, ids,
// headers, hybrid-logical-clock positions, hash chains, regions and the
// stored-event and notification shapes that every other package passes around.
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
