package event

import (
	"errors"
	"fmt"
)

// EventKind is a 16-bit event type: a 4-bit category and a 12-bit type.
// Categories 0x0 (system, which includes kind 0) and 0xD (effect) are
// reserved for the library: appends through a store's public API refuse
// every kind of them, the defined ones below included (see CheckKind).
type EventKind uint16

// Reserved categories.
const (
	CategorySystem uint8 = 0x0
	CategoryEffect uint8 = 0xD
)

// System kinds, category 0x0: the library's own, refused by the public
// append paths. They are numbered as batpak-rust numbers them, so an
// imported store and ported code mean the same kinds.
const (
	KindInit         EventKind = 0x0001
	KindShutdown     EventKind = 0x0002
	KindHeartbeat    EventKind = 0x0003
	KindConfigChange EventKind = 0x0004
	KindCheckpoint   EventKind = 0x0005
	// KindBatchBegin and KindBatchCommit are batpak-rust's batch marker
	// kinds (SYSTEM_BATCH_BEGIN, SYSTEM_BATCH_COMMIT). batpak-go writes no
	// event of these kinds: its batch markers are records of their own
	// (segment.TypeBatchBegin, segment.TypeBatchCommit; docs/FORMAT.md),
	// never events, and reads never show them. The constants name the
	// values that batpak import reads in batpak-rust segments.
	KindBatchBegin  EventKind = 0x0006
	KindBatchCommit EventKind = 0x0007
	// KindTombstone marks an event whose payload compaction dropped: the
	// event keeps its id, coordinate and sequences, its kind becomes
	// KindTombstone and its payload is empty.
	KindTombstone EventKind = 0x0FFE
)

// KindData is batpak-rust's generic user data kind (DATA). It lies in
// user category 0x1, so it may be appended like any user kind.
const KindData EventKind = 0x1000

// Effect kinds, category 0xD: the library's own, refused by the public
// append paths. Numbered as batpak-rust numbers them (there is no 0xD003).
const (
	KindError        EventKind = 0xD001
	KindRetry        EventKind = 0xD002
	KindAck          EventKind = 0xD004
	KindBackpressure EventKind = 0xD005
	KindCancel       EventKind = 0xD006
	KindConflict     EventKind = 0xD007
)

// ErrReservedKind is returned by Custom for a reserved or out-of-range category or type.
var ErrReservedKind = errors.New("batpak: invalid event kind")

// Custom builds a user kind from a category (0x1–0xF except 0xD) and a type (0x000–0xFFF).
func Custom(category uint8, typ uint16) (EventKind, error) {
	switch {
	case category == CategorySystem || category == CategoryEffect:
		return 0, fmt.Errorf("%w: category %#x is reserved", ErrReservedKind, category)
	case category > 0xF:
		return 0, fmt.Errorf("%w: category %#x exceeds 4 bits", ErrReservedKind, category)
	case typ > 0xFFF:
		return 0, fmt.Errorf("%w: type %#x exceeds 12 bits", ErrReservedKind, typ)
	}
	return EventKind(uint16(category)<<12 | typ), nil
}

// MustCustom is Custom for constants; it panics on a reserved category.
func MustCustom(category uint8, typ uint16) EventKind {
	k, err := Custom(category, typ)
	if err != nil {
		panic(err)
	}
	return k
}

// Category is the kind's top 4 bits.
func (k EventKind) Category() uint8 { return uint8(k >> 12) }

// Type is the kind's low 12 bits.
func (k EventKind) Type() uint16 { return uint16(k) & 0xFFF }

// IsSystem reports whether k is in the reserved system category.
func (k EventKind) IsSystem() bool { return k.Category() == CategorySystem }

// IsEffect reports whether k is in the reserved effect category.
func (k EventKind) IsEffect() bool { return k.Category() == CategoryEffect }

func (k EventKind) String() string { return fmt.Sprintf("%#x:%#03x", k.Category(), k.Type()) }

// KindFilter selects event kinds. The zero value matches every kind.
type KindFilter struct {
	mode     uint8 // 0 any, 1 exact, 2 category, 3 set
	kind     EventKind
	category uint8
	set      []EventKind
}

// AnyKind matches every kind.
func AnyKind() KindFilter { return KindFilter{} }

// ExactKind matches one kind.
func ExactKind(k EventKind) KindFilter { return KindFilter{mode: 1, kind: k} }

// KindCategory matches every kind of one category.
func KindCategory(category uint8) KindFilter { return KindFilter{mode: 2, category: category} }

// KindSet matches any of the given kinds.
func KindSet(kinds ...EventKind) KindFilter {
	return KindFilter{mode: 3, set: append([]EventKind(nil), kinds...)}
}

// IsAny reports whether f matches every kind.
func (f KindFilter) IsAny() bool { return f.mode == 0 }

// Exact returns the single kind f matches, if f is an exact filter.
func (f KindFilter) Exact() (EventKind, bool) { return f.kind, f.mode == 1 }

// Kinds returns the kinds of a set filter, or the one kind of an exact filter.
func (f KindFilter) Kinds() []EventKind {
	switch f.mode {
	case 1:
		return []EventKind{f.kind}
	case 3:
		return f.set
	}
	return nil
}

// Matches reports whether k passes the filter.
func (f KindFilter) Matches(k EventKind) bool {
	switch f.mode {
	case 1:
		return k == f.kind
	case 2:
		return k.Category() == f.category
	case 3:
		for _, s := range f.set {
			if s == k {
				return true
			}
		}
		return false
	}
	return true
}
