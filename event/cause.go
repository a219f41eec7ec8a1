package event

// CauseKind says how a batch item names its cause inside the batch.
type CauseKind uint8

const (
	// CauseNone: the item names no cause inside the batch
	// (AppendOptions.Causation may still name one).
	CauseNone CauseKind = iota
	// CauseByItem: an earlier item of the batch, by index.
	CauseByItem
	// CauseByLatestOf: the latest earlier item of the batch of an entity.
	CauseByLatestOf
	// CauseByID: an event id (AppendOptions.Causation does the same).
	CauseByID
)

// Cause names a batch item's cause: an earlier item, the latest earlier
// item of an entity, or an event id. The zero Cause means none. Build one
// with CauseItem, CauseLatestOf or CauseID; a backend resolves it to the
// causing event's id when it writes the batch.
type Cause struct {
	Kind   CauseKind
	Index  int    // CauseByItem: the earlier item's index
	Entity string // CauseByLatestOf: the entity
	ID     ID     // CauseByID: the causing event
}

// CauseItem makes an item caused by the earlier item at index i.
func CauseItem(i int) Cause { return Cause{Kind: CauseByItem, Index: i} }

// CauseLatestOf makes an item caused by the latest earlier item of entity.
func CauseLatestOf(entity string) Cause { return Cause{Kind: CauseByLatestOf, Entity: entity} }

// CauseID makes an item caused by an existing event.
func CauseID(id ID) Cause { return Cause{Kind: CauseByID, ID: id} }

// BatchItem is one event of an atomic batch.
type BatchItem struct {
	Coord   Coordinate
	Kind    EventKind
	Payload any
	// Options apply to this item. ExpectSequence is checked against the
	// entity as the batch leaves it so far (earlier items of the same entity
	// count). Durability is taken from the batch, not the item.
	Options AppendOptions
	// Cause, if set, names this item's cause inside the batch; it overrides
	// Options.Causation.
	Cause Cause
}

// Reactions returns a copy of items as reactions to one event: each item
// that names no correlation of its own gets correlation, and each that
// names no cause (neither Options.Causation nor Cause) gets causation.
// Every backend's AppendReactionBatch, and react loops, append through it.
func Reactions(correlation, causation ID, items []BatchItem) []BatchItem {
	out := make([]BatchItem, len(items))
	for i, it := range items {
		if it.Options.Correlation.IsZero() {
			it.Options.Correlation = correlation
		}
		if it.Options.Causation.IsZero() && it.Cause.Kind == CauseNone {
			it.Options.Causation = causation
		}
		out[i] = it
	}
	return out
}
