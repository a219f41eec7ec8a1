package event

// ImportEvent is an event written by another store, as an import brings it
// in: with the id and the clock readings it had there.
type ImportEvent struct {
	ID          ID // kept as the event's id; must not be zero
	Coord       Coordinate
	Kind        EventKind // any kind but the batch-marker kinds (KindBatchBegin, KindBatchCommit)
	Codec       Codec     // how Payload is encoded (MsgPack for batpak-rust's payloads)
	Payload     []byte
	Correlation ID // zero: the event's own id
	Causation   ID // zero: none
	Flags       uint16
	Timestamp   int64  // µs since the Unix epoch
	WallMS      uint64 // hybrid-clock reading; 0 means Timestamp/1000
	Counter     uint32
}
