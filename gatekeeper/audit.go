package gatekeeper

import (
	"fmt"
	"slices"

	"github.com/batpak-go/batpak/event"
)

// EnvelopeVersion is the envelope format Commit writes.
const EnvelopeVersion = 1

// Envelope is the payload Commit hands to the store: the proposal's payload
// plus the audit record. The store encodes it with its codec (MessagePack by
// default); the tags give the same keys in MessagePack and JSON:
//
//	{
//	  "gatekeeper": 1,               // EnvelopeVersion; its presence marks an envelope
//	  "payload":    <T>,             // the proposal's payload, encoded as T
//	  "gates":      ["a", "b"],      // gates passed; absent for a bypass
//	  "bypass": {                    // present only when the gates were bypassed
//	    "reason":        "incident-response",
//	    "justification": "INC-4711: restore the guild vault",
//	    "by":            "ops:alice",
//	    "gates_skipped": ["a", "b"]
//	  }
//	}
//
// Every event committed through gatekeeper has this shape, bypassed or not,
// so a projection decodes all events of a kind the same way (with Decode)
// and a bypass is told apart by its "bypass" key alone.
type Envelope[T any] struct {
	Version uint8         `msgpack:"gatekeeper" json:"gatekeeper"`
	Payload T             `msgpack:"payload" json:"payload"`
	Gates   []string      `msgpack:"gates,omitempty" json:"gates,omitempty"`
	Bypass  *BypassRecord `msgpack:"bypass,omitempty" json:"bypass,omitempty"`
}

// BypassRecord is the audit of one bypass, as written on the log.
type BypassRecord struct {
	Reason        string   `msgpack:"reason" json:"reason"`
	Justification string   `msgpack:"justification" json:"justification"`
	By            string   `msgpack:"by" json:"by"`
	GatesSkipped  []string `msgpack:"gates_skipped" json:"gates_skipped"`
}

func (b *BypassRecord) clone() BypassRecord {
	c := *b
	c.GatesSkipped = slices.Clone(b.GatesSkipped)
	return c
}

// Audit is what the log says about how an event got past the gates.
type Audit struct {
	// Gates are the gates passed, in order; nil for a bypass.
	Gates []string
	// Bypass is set when the gates were bypassed.
	Bypass *BypassRecord
}

// Bypassed reports whether the event was committed with a bypass.
func (a Audit) Bypassed() bool { return a.Bypass != nil }

func (e Envelope[T]) audit() Audit {
	a := Audit{Gates: slices.Clone(e.Gates)}
	if e.Bypass != nil {
		b := e.Bypass.clone()
		a.Bypass = &b
	}
	return a
}

// auditView decodes an envelope's audit while skipping the payload, so the
// audit can be read without knowing the payload's type (both codecs ignore
// keys a struct does not name).
type auditView struct {
	Version uint8         `msgpack:"gatekeeper" json:"gatekeeper"`
	Gates   []string      `msgpack:"gates,omitempty" json:"gates,omitempty"`
	Bypass  *BypassRecord `msgpack:"bypass,omitempty" json:"bypass,omitempty"`
}

func checkVersion(v uint8) error {
	switch {
	case v == 0:
		return fmt.Errorf("%w: no %q key", ErrNotEnvelope, "gatekeeper")
	case v > EnvelopeVersion:
		return fmt.Errorf("%w: version %d is newer than %d", ErrNotEnvelope, v, EnvelopeVersion)
	}
	return nil
}

// ReadAudit returns the audit record of a stored event: the gates it passed,
// or who bypassed which gates and why.
func ReadAudit(e *event.StoredEvent) (Audit, error) {
	var v auditView
	if err := e.Decode(&v); err != nil {
		return Audit{}, fmt.Errorf("%w: %w", ErrNotEnvelope, err)
	}
	if err := checkVersion(v.Version); err != nil {
		return Audit{}, err
	}
	return Envelope[struct{}]{Gates: v.Gates, Bypass: v.Bypass}.audit(), nil
}

// Decode returns the payload and the audit record of a stored event that
// was committed through gatekeeper.
func Decode[T any](e *event.StoredEvent) (T, Audit, error) {
	var env Envelope[T]
	if err := e.Decode(&env); err != nil {
		var zero T
		return zero, Audit{}, fmt.Errorf("%w: %w", ErrNotEnvelope, err)
	}
	if err := checkVersion(env.Version); err != nil {
		var zero T
		return zero, Audit{}, err
	}
	return env.Payload, env.audit(), nil
}
