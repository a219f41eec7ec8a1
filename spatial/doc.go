// Package spatial names the chunks of a game world as scopes, so that the
// store's regions can ask for space: everything in a zone, or the chunks
// around a player.
//
// A world is split into zones, and each zone into a grid of square chunks.
// An event that happens in a chunk is appended with the chunk's scope,
// "zone:<zone>/<x>,<y>" ("zone:1/3,-2"); a region over a zone is the scope
// prefix "zone:<zone>/*", and an area of interest is the set of the scopes
// of the chunks around a point. The store serves both from its index,
// reading only those chunks' events.
//
//	here := spatial.At(1, px, py, 16)                        // the chunk of tile (px, py), 16 tiles a side
//	coord := event.MustCoordinate("player:7", here.Scope()) // where the event happens
//	sub, err := store.Subscribe(spatial.Area(here.Around(1)...), 256) // the 3×3 chunks around it
//	all := spatial.Zone(1)                                  // everything in zone 1
//
// Interest is a player's area-of-interest feed over any batpak.EventStore:
// a lossy subscription to the chunks around it that follows it across
// chunk borders, handing over at a position so that no event is delivered
// twice or out of order:
//
//	feed, err := spatial.Follow(store, here, 1, 256)
//	err = feed.MoveTo(next) // before appending the events of the move
//	notes, err := feed.Drain(ctx, notes[:0])
//
// Apart from Interest the package is pure functions over integers and
// strings; nothing in it starts a goroutine.
package spatial
