package gatekeeper

import (
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/batpak-go/batpak/event"
)

// Proposal is an event somebody wants to append: where, what kind, the
// payload, and the append options (expected sequence, idempotency key,
// correlation, causation). It is plain data; only a receipt made from it can
// be committed.
type Proposal[T any] struct {
	Coordinate event.Coordinate
	Kind       event.EventKind
	Payload    T
	Options    event.AppendOptions
	// Limits are the codec and payload bound of the store the receipt will
	// be committed to: Evaluate and Bypass encode the envelope with them
	// and refuse a payload too large for it. The zero Limits means
	// event.DefaultLimits(), the embedded store's defaults; for a store
	// configured otherwise (WithMaxPayload, WithCodec, or the JetStream
	// backend, whose bound is lower) set it from the store:
	// p.Limits = store.Limits().
	Limits event.Limits
}

// Propose builds a proposal with default append options.
func Propose[T any](coord event.Coordinate, kind event.EventKind, payload T) Proposal[T] {
	return Proposal[T]{Coordinate: coord, Kind: kind, Payload: payload}
}

// Receipt is the proof that a proposal may be committed: either every gate
// of a set passed (Evaluate) or a named person bypassed them with a recorded
// reason (Bypass). Commit accepts nothing else.
//
// A Receipt cannot be forged: its only field is unexported, so other
// packages can write nothing but the zero Receipt, and Commit refuses that.
// (Package unsafe and reflection can break any Go encapsulation; this is a
// guard against mistakes and shortcuts, not against hostile code in the same
// process.)
//
// A receipt commits at most once. Copies share one state, so copying a
// receipt does not copy the right to commit it, and when goroutines race to
// commit copies of one receipt exactly one gets to append.
//
// A receipt always describes something the store can append: Evaluate
// and Bypass refuse, before issuing one, every proposal a store would
// refuse whatever its state — an invalid coordinate (*event.CoordinateError),
// a kind of a reserved category (event.ErrReservedKind, which is
// batpak.ErrInvalidKind), an idempotency key above 1,024 bytes
// (event.ErrInvalidOption) — and a payload whose envelope does not encode
// with p.Limits or encodes above its bound (event.ErrPayloadTooLarge). What
// depends on the log when the commit happens (an expected sequence, a
// reused idempotency key) can only be decided by the commit.
//
// The receipt holds the proposal as it was evaluated, and the envelope
// encoded then: Commit appends those bytes, so what is appended is what the
// gates saw even if T holds pointers, slices or maps changed since. (Only
// a commit to a store whose codec differs from p.Limits' encodes the
// envelope again, from the proposal as it is then.)
type Receipt[T any] struct {
	s *sealed[T]
}

// sealed is a receipt's shared state; only this package can make one.
type sealed[T any] struct {
	proposal Proposal[T]
	gates    []string      // gates passed; nil for a bypass
	bypass   *BypassRecord // non-nil for a bypass
	encoded  event.Encoded // the envelope, encoded with the proposal's limits
	spent    atomic.Bool   // set by the first Commit; read and written by any goroutine
}

// checkProposal refuses what every store refuses of p whatever the state
// of its log, before any gate runs (the payload is checked by seal).
func checkProposal[T any](p *Proposal[T]) error {
	return event.CheckAppend(p.Coordinate, p.Kind, p.Options)
}

// seal encodes the envelope Commit will append, refusing a payload that
// does not fit p.Limits, and makes the receipt's state.
func seal[T any](p Proposal[T], gates []string, bypass *BypassRecord) (*sealed[T], error) {
	limits := p.Limits
	if limits.IsZero() {
		limits = event.DefaultLimits()
	}
	env := Envelope[T]{Version: EnvelopeVersion, Payload: p.Payload, Gates: gates, Bypass: bypass}
	enc, err := limits.Encode(env)
	if err != nil {
		return nil, err
	}
	return &sealed[T]{proposal: p, gates: gates, bypass: bypass, encoded: enc}, nil
}

// IsZero reports whether r is the zero Receipt (not made by this package).
func (r Receipt[T]) IsZero() bool { return r.s == nil }

// Proposal returns the proposal the receipt covers (zero for a zero receipt).
func (r Receipt[T]) Proposal() Proposal[T] {
	if r.s == nil {
		return Proposal[T]{}
	}
	return r.s.proposal
}

// Payload returns the payload the receipt covers.
func (r Receipt[T]) Payload() T { return r.Proposal().Payload }

// Gates returns the names of the gates passed, in order (nil for a bypass).
func (r Receipt[T]) Gates() []string {
	if r.s == nil {
		return nil
	}
	return slices.Clone(r.s.gates)
}

// Bypass returns the bypass record of a receipt made by Bypass.
func (r Receipt[T]) Bypass() (BypassRecord, bool) {
	if r.s == nil || r.s.bypass == nil {
		return BypassRecord{}, false
	}
	return r.s.bypass.clone(), true
}

// Spent reports whether a Commit has already used the receipt. It is a
// snapshot for logs and tests; to use the receipt, call Commit and check its
// error, which is the only race-free answer.
func (r Receipt[T]) Spent() bool { return r.s != nil && r.s.spent.Load() }

// String describes the receipt for logs.
func (r Receipt[T]) String() string {
	switch {
	case r.s == nil:
		return "gatekeeper.Receipt(zero)"
	case r.s.bypass != nil:
		return fmt.Sprintf("gatekeeper.Receipt(%s %v, bypassed by %s: %s)",
			r.s.proposal.Coordinate, r.s.proposal.Kind, r.s.bypass.By, r.s.bypass.Reason)
	}
	return fmt.Sprintf("gatekeeper.Receipt(%s %v, passed %v)",
		r.s.proposal.Coordinate, r.s.proposal.Kind, r.s.gates)
}

// BypassReason is what a caller must say to skip a gate set.
type BypassReason struct {
	// Reason is a short, stable code for the kind of override, suitable for
	// grouping in reports, e.g. "incident-response" or "support-refund".
	Reason string
	// Justification says in words why the gates had to be skipped this time,
	// e.g. a ticket reference and what it authorises.
	Justification string
	// By names who authorised the bypass: an operator, a service, a role.
	By string
}

// Bypass makes a receipt for p without evaluating the gates of s, for the
// cases a policy did not foresee. The reason, the justification, who
// authorised it and the names of the gates of s (the gates skipped) are
// written with the event by Commit, so the log itself shows who bypassed
// what and why; see ReadAudit.
//
// s is the gate set that would otherwise have been evaluated; it is needed
// only to record which gates were skipped. A bypass skips the gates, never
// the store's rules: p is checked as Evaluate checks it (see Receipt).
func Bypass[C, T any](s *GateSet[C], p Proposal[T], why BypassReason) (Receipt[T], error) {
	if s == nil {
		return Receipt[T]{}, fmt.Errorf("%w: nil", ErrInvalidGateSet)
	}
	var missing []string
	if why.Reason == "" {
		missing = append(missing, "reason")
	}
	if why.Justification == "" {
		missing = append(missing, "justification")
	}
	if why.By == "" {
		missing = append(missing, "by")
	}
	if len(missing) > 0 {
		return Receipt[T]{}, fmt.Errorf("%w: missing %v", ErrUnjustifiedBypass, missing)
	}
	if err := checkProposal(&p); err != nil {
		return Receipt[T]{}, err
	}
	rec := &BypassRecord{
		Reason:        why.Reason,
		Justification: why.Justification,
		By:            why.By,
		GatesSkipped:  s.Names(),
	}
	sl, err := seal(p, nil, rec)
	if err != nil {
		return Receipt[T]{}, err
	}
	return Receipt[T]{s: sl}, nil
}
