package gatekeeper

import (
	"fmt"
	"slices"
	"strings"
)

// Gate is one named policy check over a caller-defined context C.
//
// Check must be a pure predicate: it reads C and nothing else, has no side
// effects and returns nil to pass or a *Denial to refuse. Purity is what lets
// a gate set run on the caller's goroutine, concurrently with itself, and be
// evaluated twice (EvaluateAll for a dashboard, Evaluate for the commit)
// without changing anything. A gate that panics is a bug and the panic is not
// recovered.
type Gate[C any] struct {
	// Name identifies the gate in denials, receipts and the audit record on
	// the log, so keep it stable; it must be unique within a gate set.
	Name string
	// Description says, for humans, what the gate enforces.
	Description string
	// Check passes (nil) or denies (a *Denial, typically built with Deny).
	Check func(C) *Denial
}

// Denial is a gate's refusal. It is an error, so Evaluate returns it as one;
// use errors.As to get at the fields.
type Denial struct {
	// Gate is the name of the gate that denied. The gate set fills it in,
	// so a gate cannot speak for another one.
	Gate string
	// Code is a short, stable, machine-readable reason, e.g. "over_limit".
	Code string
	// Message explains the refusal to a human.
	Message string
	// Context holds key/value details in the order the gate added them,
	// e.g. the limit and the amount asked for.
	Context []Attr
}

// Attr is one key/value detail of a denial.
type Attr struct {
	Key   string
	Value string
}

// Deny starts a denial with a code and a message; chain With to add context:
//
//	return gatekeeper.Deny("over_limit", "daily limit reached").
//		With("limit", limit).With("asked", amount)
func Deny(code, message string) *Denial {
	return &Denial{Code: code, Message: message}
}

// Denyf is Deny with a formatted message.
func Denyf(code, format string, args ...any) *Denial {
	return &Denial{Code: code, Message: fmt.Sprintf(format, args...)}
}

// With appends a key/value detail and returns d. The value is formatted with
// fmt.Sprint at once, so a denial is plain data that can be logged, compared
// and sent elsewhere without holding on to the caller's values.
func (d *Denial) With(key string, value any) *Denial {
	d.Context = append(d.Context, Attr{Key: key, Value: fmt.Sprint(value)})
	return d
}

// Lookup returns the first context value under key.
func (d *Denial) Lookup(key string) (string, bool) {
	for _, a := range d.Context {
		if a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

// Error renders the denial on one line:
//
//	gatekeeper: gate "daily-limit" denied (over_limit): daily limit reached [limit=100 asked=250]
func (d *Denial) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "gatekeeper: gate %q denied (%s): %s", d.Gate, d.Code, d.Message)
	if len(d.Context) > 0 {
		b.WriteString(" [")
		for i, a := range d.Context {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(a.Key)
			b.WriteByte('=')
			b.WriteString(a.Value)
		}
		b.WriteByte(']')
	}
	return b.String()
}

// Is makes errors.Is(err, ErrDenied) true for every denial.
func (d *Denial) Is(target error) bool { return target == ErrDenied }

// stamped returns a copy of d attributed to gate. Gates may return a shared
// package-level *Denial; copying before stamping keeps concurrent
// evaluations from writing to it.
func (d *Denial) stamped(gate string) *Denial {
	c := *d
	c.Gate = gate
	c.Context = slices.Clone(d.Context)
	return &c
}
