package gatekeeper

import "fmt"

// GateSet is an ordered, immutable list of gates over context C. Build it once
// (at start-up, next to the code it protects) and share it: it holds no
// mutable state, so any number of goroutines may evaluate it at once.
//
// Order matters for Evaluate, which stops at the first denial: put cheap and
// most-often-failing gates first.
type GateSet[C any] struct {
	gates []Gate[C]
	names []string
}

// NewGateSet checks and freezes gates in the order given.
func NewGateSet[C any](gates ...Gate[C]) (*GateSet[C], error) {
	if len(gates) == 0 {
		return nil, fmt.Errorf("%w: no gates", ErrInvalidGateSet)
	}
	s := &GateSet[C]{
		gates: make([]Gate[C], len(gates)),
		names: make([]string, len(gates)),
	}
	seen := make(map[string]bool, len(gates))
	for i, g := range gates {
		switch {
		case g.Name == "":
			return nil, fmt.Errorf("%w: gate %d has no name", ErrInvalidGateSet, i)
		case g.Check == nil:
			return nil, fmt.Errorf("%w: gate %q has no Check", ErrInvalidGateSet, g.Name)
		case seen[g.Name]:
			return nil, fmt.Errorf("%w: two gates named %q", ErrInvalidGateSet, g.Name)
		}
		seen[g.Name] = true
		s.gates[i] = g
		s.names[i] = g.Name
	}
	return s, nil
}

// MustGateSet is NewGateSet for package-level variables; it panics on an
// invalid set, which is a programming error caught at start-up.
func MustGateSet[C any](gates ...Gate[C]) *GateSet[C] {
	s, err := NewGateSet(gates...)
	if err != nil {
		panic(err)
	}
	return s
}

// Names returns the gate names in evaluation order.
func (s *GateSet[C]) Names() []string { return append([]string(nil), s.names...) }

// Gates returns a copy of the gates in evaluation order (for documentation
// and admin pages that list each gate's description).
func (s *GateSet[C]) Gates() []Gate[C] { return append([]Gate[C](nil), s.gates...) }

// first runs the gates in order and returns the first denial, or nil.
func (s *GateSet[C]) first(c C) *Denial {
	for _, g := range s.gates {
		if d := g.Check(c); d != nil {
			return d.stamped(g.Name)
		}
	}
	return nil
}

// EvaluateAll runs every gate, whatever the earlier ones said, and returns all
// denials in gate order (nil if every gate passes). It makes no receipt: it is
// for observability — showing a user everything that is wrong at once,
// metrics per gate, dry runs — while Evaluate is the path to a commit.
func (s *GateSet[C]) EvaluateAll(c C) []*Denial {
	var out []*Denial
	for _, g := range s.gates {
		if d := g.Check(c); d != nil {
			out = append(out, d.stamped(g.Name))
		}
	}
	return out
}

// Evaluate runs the gates of s in order against c and stops at the first
// denial, which it returns as the error (a *Denial; see errors.As). If every
// gate passes it returns a receipt for p naming the gates passed; Commit
// turns that receipt into an event.
//
// A proposal no store could append — an invalid coordinate, a kind of a
// reserved category, an over-long idempotency key — is refused before any
// gate runs, and one whose payload does not fit p.Limits after the gates
// pass, so a receipt always describes something the store can append (see
// Receipt).
//
// Gates judge c as it is now. If c was read from the store, set
// p.Options.ExpectSequence to the sequence it was read at: the commit then
// fails instead of acting on a decision the log has moved past.
func Evaluate[C, T any](s *GateSet[C], c C, p Proposal[T]) (Receipt[T], error) {
	if s == nil {
		return Receipt[T]{}, fmt.Errorf("%w: nil", ErrInvalidGateSet)
	}
	if err := checkProposal(&p); err != nil {
		return Receipt[T]{}, err
	}
	if d := s.first(c); d != nil {
		return Receipt[T]{}, d
	}
	sl, err := seal(p, s.Names(), nil)
	if err != nil {
		return Receipt[T]{}, err
	}
	return Receipt[T]{s: sl}, nil
}
