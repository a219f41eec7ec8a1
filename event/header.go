package event

import (
	"fmt"
)

// Position is where an event sits in time: a hybrid logical clock reading
// (wall milliseconds plus a logical counter that orders events within one
// millisecond or across a clock step back). Where it sits in its entity's
// stream is its Sequence, beside its Global sequence.
type Position struct {
	WallMS  uint64
	Counter uint32
}

// Compare orders positions by their clock reading.
func (p Position) Compare(o Position) int {
	switch {
	case p.WallMS < o.WallMS:
		return -1
	case p.WallMS > o.WallMS:
		return 1
	case p.Counter < o.Counter:
		return -1
	case p.Counter > o.Counter:
		return 1
	}
	return 0
}

func (p Position) String() string { return fmt.Sprintf("%d.%d", p.WallMS, p.Counter) }

// HLC is a hybrid logical clock. Tick never returns a reading at or below a
// previous one, whatever the wall clock does. Not safe for concurrent use.
type HLC struct {
	wallMS  uint64
	counter uint32
}

// Observe moves the clock to at least p (used when reopening a store).
func (h *HLC) Observe(p Position) {
	if p.WallMS > h.wallMS || (p.WallMS == h.wallMS && p.Counter > h.counter) {
		h.wallMS, h.counter = p.WallMS, p.Counter
	}
}

// Tick returns the next reading for a wall clock at nowMS.
func (h *HLC) Tick(nowMS int64) (wallMS uint64, counter uint32) {
	if ms := uint64(nowMS); ms > h.wallMS {
		h.wallMS, h.counter = ms, 0
	} else {
		h.counter++
	}
	return h.wallMS, h.counter
}

// HashChain links an event to its entity's previous event: Self is the
// Blake3 hash of Prev followed by the event's encoded body. An entity's first
// event has a zero Prev. Both are zero when the store runs without hash chains.
// Self is stored with the event; Prev is read from the predecessor, so reads
// that span entities (scope, kind and prefix queries) leave it zero.
type HashChain struct {
	Prev [32]byte
	Self [32]byte
}

// Header is everything the store records about an event besides its
// coordinate and payload.
type Header struct {
	ID          ID
	Correlation ID       // the workflow this event belongs to; its own ID unless set
	Causation   ID       // the event that caused this one; zero if none
	Timestamp   int64    // microseconds since the Unix epoch, from the store's clock
	Position    Position // clock reading
	Global      uint64   // global sequence: 1 for the store's first event, strictly increasing in commit order
	Sequence    uint64   // per-entity sequence: 0 for the entity's first event, then 1, 2, …
	Kind        EventKind
	Flags       uint16 // FlagRequiresAck, FlagTransactional, FlagReplay; the other bits are the caller's
	PayloadSize uint32
	Hash        HashChain
}

// Header flags with a meaning shared with batpak-rust (FLAG_REQUIRES_ACK,
// FLAG_TRANSACTIONAL, FLAG_REPLAY), numbered as it numbers them. The store
// records them and acts on none: they tell consumers how an event was
// meant. Bits 0x04 and 0x10–0x8000 are the caller's.
const (
	// FlagRequiresAck says a consumer should acknowledge the event before
	// it is handed the next.
	FlagRequiresAck uint16 = 0x01
	// FlagTransactional says the event belongs to an atomic group.
	FlagTransactional uint16 = 0x02
	// FlagReplay says the event re-records an earlier one (a replay), not
	// a live occurrence.
	FlagReplay uint16 = 0x08
)

// RequiresAck reports whether FlagRequiresAck is set.
func (h Header) RequiresAck() bool { return h.Flags&FlagRequiresAck != 0 }

// IsTransactional reports whether FlagTransactional is set.
func (h Header) IsTransactional() bool { return h.Flags&FlagTransactional != 0 }

// IsReplay reports whether FlagReplay is set.
func (h Header) IsReplay() bool { return h.Flags&FlagReplay != 0 }
