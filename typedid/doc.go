// Package typedid lets a product declare its own id types, backed by UUIDv7,
// that the compiler keeps apart.
//
// Declare a marker per kind of thing and alias the id type:
//
//	type player struct{}
//
//	func (player) Prefix() string { return "player" }
//
//	type PlayerID = typedid.ID[player]
//
//	id := typedid.New[player]()               // PlayerID, e.g. player:0190a1c2-…
//	coord, err := id.Coordinate("room:crypt") // its event stream
//	back, err := typedid.Parse[player](id.String())
//
// A PlayerID cannot be passed where a RoomID is expected, compared with
// one, or parsed from one's text. Ids are UUIDv7, so they sort by creation
// time and index well; the text form carries the prefix so logs and URLs
// say what an id is.
package typedid
