// Package index is batpak's in-memory index of committed events: by id, per
// entity (ordered by sequence), per scope, per kind, and in global order.
//
// One writer publishes entries (in global order, only once they are
// visible); any number of readers query concurrently. Readers hold the lock
// only long enough to take a snapshot of the lists they need: lists only
// grow, and the elements below a snapshot's length never change, so a
// snapshot is iterated without any lock while the writer keeps appending.
//
// Entries are compact — 40 bytes, 16 for the id (kept sorted, so lookups
// by id are a binary search rather than a hash table, narrowed by a fence
// every 64 ids), and 4 in each of the entity, scope and kind lists — and
// hold where the event's frame lives, not the event. Lists grow in fixed
// chunks, never copied. Events that are not their own correlation are also
// listed by correlation id (Correlated), so a workflow is found without
// reading the log; most events are their own, and cost nothing there.
// Each entry's predecessor in its entity's stream is kept by position (4
// bytes, derived from the streams, never checkpointed), so a Get finds
// the event whose hash it returns as Hash.Prev without walking the
// stream's list (LookupIDLinked).
//
// Beside the entries it keeps what an event's header needs that an entry
// does not hold — each event's clock reading (12 bytes) and the
// correlation and causation of the events that have them (headers.go) —
// so ScanHeaders gives event.IndexHeader values without reading a frame.
//
//	x := index.New()
//	x.Publish([]index.Pending{{ID: id, Entity: "player:1", Scope: "room:1", Kind: k, Global: 1}})
//	for e := range x.Query(event.ForEntity("player:1"), 0) {
//		_ = e.Offset // read the frame at (e.Segment, e.Offset, e.Size)
//	}
package index
