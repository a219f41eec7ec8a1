package event

import (
	"fmt"

	"github.com/batpak-go/batpak/receipt"
)

// Durability says when an append is acknowledged.
type Durability uint8

const (
	// DefaultDurability means "use the store's configured mode".
	DefaultDurability Durability = iota
	// Durable acknowledges an append only after the fsync that covers it
	// (and the directory fsync for a new segment); readers, cursors and
	// subscribers see the event only then. Group commit shares one fsync
	// among every append waiting at the time.
	Durable
	// OnWrite acknowledges after the write system call and the index
	// publish; fsync follows every N events or T interval. A crash of the
	// machine (not just the process) can lose acknowledged events written
	// since the last fsync.
	OnWrite
)

func (d Durability) String() string {
	switch d {
	case DefaultDurability:
		return "default"
	case Durable:
		return "durable"
	case OnWrite:
		return "on-write"
	}
	return fmt.Sprintf("durability(%d)", uint8(d))
}

// AppendOptions are the optional parts of an append.
type AppendOptions struct {
	// ExpectSequence makes the append conditional (optimistic concurrency):
	// it succeeds only if the entity's next sequence is ExpectedSequence,
	// that is, if the entity has exactly ExpectedSequence events. Zero with
	// ExpectSequence set means "the entity must have no events yet".
	ExpectSequence   bool
	ExpectedSequence uint64
	// IdempotencyKey, when set, makes a retried append return the original
	// receipt and write nothing. Keys are kept for the life of the store.
	// A retry must name the same event — the same coordinate, kind and
	// payload (see SamePayload) with the same payload version — or it fails with the store's
	// ErrDuplicate ("idempotency key reused for a different event"); the
	// other options (expected sequence, correlation, causation, flags) are
	// not compared. At most MaxIdempotencyKey bytes.
	IdempotencyKey string
	// Correlation groups events of one workflow; zero means the event's own id.
	Correlation ID
	// Causation names the event that caused this one; zero means none.
	Causation ID
	// Flags are stored with the event: FlagRequiresAck, FlagTransactional
	// and FlagReplay (numbered as batpak-rust numbers them) and the
	// caller's own bits.
	Flags uint16
	// Durability overrides the store's mode for this append.
	Durability Durability
}

// Expect returns options that make an append conditional on the entity's
// next sequence being next (its event count).
func Expect(next uint64) AppendOptions {
	return AppendOptions{ExpectSequence: true, ExpectedSequence: next}
}

// Receipt is what an acknowledged append returns.
type Receipt struct {
	ID          ID
	Coordinate  Coordinate
	Kind        EventKind
	Global      uint64   // global sequence
	Sequence    uint64   // per-entity sequence
	Position    Position // clock reading
	Timestamp   int64    // microseconds since the Unix epoch
	Correlation ID
	Causation   ID
	Hash        [32]byte // the event's own chain hash; zero without hash chains
	// Replayed is true when an idempotency key matched an earlier append and
	// this receipt is that append's, with nothing written now.
	Replayed bool
	// Proof is the store's id and signature when the store signs receipts
	// (WithReceiptSigner), nil otherwise. Copies of a receipt share it:
	// treat it as read-only.
	Proof *Proof
}

// Proof makes a receipt checkable by anyone who trusts the store's public
// key, without the store: Signature is its Ed25519 signature over Store,
// the receipt's ID, Global, entity, Sequence and Hash (package receipt).
// Check one with batpak.VerifyReceipt; Receipt.Signed gives the portable
// form. It hangs off the receipt by a pointer so that the receipts of a
// store that does not sign — copied by every append, batch item and
// ticket — stay small.
type Proof struct {
	Store     ID       // the id of the store that wrote the event
	Signature [64]byte // Ed25519
}

// IsSigned reports whether the receipt carries a signature.
func (r *Receipt) IsSigned() bool { return r.Proof != nil }

// Claim is what the receipt's signature covers (the store id zero when
// the receipt is not signed).
func (r Receipt) Claim() receipt.Claim {
	c := receipt.Claim{
		ID: r.ID, Global: r.Global, Entity: r.Coordinate.Entity(),
		Sequence: r.Sequence, Hash: r.Hash,
	}
	if r.Proof != nil {
		c.Store = r.Proof.Store
	}
	return c
}

// Signed returns the receipt's claim and signature, whose JSON form is the
// one `batpak verify-receipt` reads.
func (r Receipt) Signed() receipt.Signed {
	s := receipt.Signed{Claim: r.Claim()}
	if r.IsSigned() {
		s.Signature = r.Proof.Signature[:]
	}
	return s
}
