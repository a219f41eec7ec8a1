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
