package batpak

import (
	"github.com/batpak-go/batpak/event"
)

// The value types of package event, named here for convenience.
type (
	Coordinate    = event.Coordinate
	EventKind     = event.EventKind
	ID            = event.ID
	Region        = event.Region
	KindFilter    = event.KindFilter
	StoredEvent   = event.StoredEvent
	Receipt       = event.Receipt
	Proof         = event.Proof
	AppendOptions = event.AppendOptions
	Durability    = event.Durability
	Codec         = event.Codec
	Notification  = event.Notification
	// Cause names a batch item's cause: an earlier item, the latest
	// earlier item of an entity, or an event id (CauseItem,
	// CauseLatestOf, CauseID). The zero Cause means none.
	Cause = event.Cause
	// Limits are a store's codec and payload bound; see Store.Limits.
	Limits = event.Limits
	// RecoveryReport says what Open found and repaired.
	RecoveryReport = event.RecoveryReport
	// ImportEvent is an event another store wrote, as Importer takes it.
	ImportEvent = event.ImportEvent
	// BatchItem is one event of an atomic batch (AppendBatch).
	BatchItem = event.BatchItem
)

// Durability modes; see the README's "Durability" section.
const (
	DefaultDurability = event.DefaultDurability // the store's configured mode
	Durable           = event.Durable
	OnWrite           = event.OnWrite
)

// Payload codecs.
const (
	MsgPack = event.CodecMsgPack
	JSON    = event.CodecJSON
	Raw     = event.CodecRaw
)

// NewCoordinate validates and returns a coordinate.
func NewCoordinate(entity, scope string) (Coordinate, error) {
	return event.NewCoordinate(entity, scope)
}

// Decode decodes a stored event's payload into a new T.
func Decode[T any](e *StoredEvent) (T, error) {
	var v T
	err := e.Decode(&v)
	return v, err
}
