package event

// IndexHeader is what the store's index holds about one event: enough to
// answer "which events, where, of what kind, when, caused by what" without
// reading the event's frame. The metadata-only reads (the store's
// StreamHeaders and QueryHeaders) yield it straight from memory; they
// never touch a segment file, so they cost a fraction of a full read.
//
// Every field equals the field of the same name of the StoredEvent a full
// read returns (Size excepted, which a StoredEvent does not carry). Where
// each comes from in the index:
//
//   - ID: the index's id list.
//   - Coordinate: the entity's and scope's interned names.
//   - Kind, Global, Sequence: the index entry. After a compaction turned
//     the event into a tombstone, Kind is KindTombstone, as a read gives.
//   - Position: the index's clock list (12 bytes an event).
//   - Correlation and Causation: the index's list of linked events, which
//     holds only events that are not their own correlation or that name a
//     cause (36 bytes each); for the others Correlation is ID and
//     Causation is zero.
//   - Size: the index entry: the event's frame size in its segment, frame
//     header included (what reading the event would read).
//
// Not here, because the index does not keep them (each would cost memory
// on every event): the chain hash (32 bytes an event), the timestamp in
// microseconds (Position.WallMS is the same clock in milliseconds), the
// flags, the payload and its codec, version and size, and the
// idempotency key. Read the event (Get, Query) for those.
type IndexHeader struct {
	ID          ID
	Correlation ID // the workflow the event belongs to; ID itself unless set
	Causation   ID // the event that caused this one; zero if none
	Coordinate  Coordinate
	Kind        EventKind
	Global      uint64   // global sequence
	Sequence    uint64   // per-entity sequence
	Position    Position // clock reading
	Size        uint32   // frame size in the segment, in bytes
}
