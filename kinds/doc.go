// Package kinds binds Go types to event kinds, once: a kind's number, its
// name and the version of its payload's shape. Appends and reads then go
// by type — no kind repeated beside the value, no decoding by hand — and
// events written with older shapes are read as the current one.
//
//	type MovedV1 struct{ X, Y int }                // what release 1 appended
//	type Moved struct{ To string; Dist int }        // what this release appends
//
//	var PlayerMoved = batpak.DefineKind[Moved]("player.moved", 0x1, 0x002,
//		kinds.Version(2), kinds.Upcast(1, func(m MovedV1) (Moved, error) {
//			return Moved{To: fmt.Sprintf("%d,%d", m.X, m.Y), Dist: m.X + m.Y}, nil
//		}))
//
//	r, err := batpak.AppendTyped(ctx, store, PlayerMoved, alice, Moved{To: "crypt"})
//	for e, err := range PlayerMoved.Query(ctx, store, event.ForEntity("player:alice")) {
//		… e.Data is a Moved, whichever version its event was written with …
//	}
//
// # Definitions
//
// Define binds a type in a Registry (batpak.DefineKind in Default, for
// package-level variables); every check is made there, so a mistake stops
// the program at start-up rather than at the first event that meets it: a
// name that breaks CheckName, a reserved kind, two types on one kind or two
// kinds with one name in a registry (ErrCollision), upcasters that do not
// chain up to the kind's type (ErrDefinition).
//
// # Payload versions
//
// Every event records the version its payload was written with
// (event.StoredEvent.PayloadVersion): a typed append records its kind's
// Version, an untyped append none (0, "unversioned"). A Kind reads an event
// of its current version as it is; an older one is decoded as the shape
// its upcaster takes and carried up the chain (version n to n+1, each step
// registered with Upcast); an unversioned event is read as the version
// Unversioned names (default 1, the kind's first). An event newer than the
// kind is ErrVersionTooNew; one below the chain's start, ErrNoUpcaster.
// Stored bytes are never rewritten: the hash chain and Verify are
// untouched, and every read path upcasts the same way — Kind.Decode (and
// batpak.DecodeAs) on an event from Get, a query, a cursor, a
// projection's Apply or a reactor, and the typed reads here (Get, Query,
// Events, Cursor).
//
// # Names
//
// A store keeps its kinds' names with its log (Names; the embedded store in
// FileName, the JetStream backend in its index bucket), so its tools print
// player.moved rather than 0x1002. It learns a name when a typed payload of
// the kind is appended, before the event is written, or when Register is
// called, and refuses to rename (ErrNameMismatch).
package kinds
