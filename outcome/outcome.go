package outcome

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Kind says which variant an Outcome is.
type Kind uint8

// The variants. Ok is zero, so the zero Outcome[T] is Ok with T's zero
// value, just as (T{}, nil) is a success.
const (
	KindOk        Kind = iota // a value
	KindErr                   // a failure, with optional compensations
	KindRetry                 // not now: try again after a delay
	KindPending               // not yet: waiting for a condition, resumable by token
	KindCancelled             // stopped on purpose, with a reason
	KindBatch                 // several outcomes, one per item of a batch
)

func (k Kind) String() string {
	switch k {
	case KindOk:
		return "ok"
	case KindErr:
		return "err"
	case KindRetry:
		return "retry"
	case KindPending:
		return "pending"
	case KindCancelled:
		return "cancelled"
	case KindBatch:
		return "batch"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ErrNilError is the error of an Err outcome made with a nil error, so an
// Err outcome always has a non-nil Err.
var ErrNilError = errors.New("outcome: Err made with a nil error")

// Outcome is the result of a step of work that can do more than succeed or
// fail: it can ask to be retried, wait for something, be cancelled, or fan
// out into a batch. It is an immutable value; build it with Ok, Err, Retry,
// Pending, Cancelled or Batch and take it apart with Kind and the accessors.
type Outcome[T any] struct {
	kind   Kind
	value  T              // KindOk
	err    error          // KindErr
	undo   []Compensation // KindErr
	retry  RetryInfo      // KindRetry
	wait   WaitCondition  // KindPending
	token  string         // KindPending
	reason string         // KindCancelled
	items  []Outcome[T]   // KindBatch
}

// RetryInfo says when and how often to try again.
type RetryInfo struct {
	After   time.Duration // wait at least this long before the next attempt
	Attempt int           // the attempt that produced this outcome, from 1
	Max     int           // attempts allowed in all; 0 means no limit
	Reason  string
}

// Exhausted reports whether no attempts are left.
func (r RetryInfo) Exhausted() bool { return r.Max > 0 && r.Attempt >= r.Max }

// Ok is a success carrying v.
func Ok[T any](v T) Outcome[T] { return Outcome[T]{kind: KindOk, value: v} }

// Err is a failure. undo lists what the caller should do to compensate for
// work already done; the outcome only carries it.
func Err[T any](err error, undo ...Compensation) Outcome[T] {
	if err == nil {
		err = ErrNilError
	}
	return Outcome[T]{kind: KindErr, err: err, undo: slices.Clone(undo)}
}

// Retry asks for another attempt.
func Retry[T any](r RetryInfo) Outcome[T] { return Outcome[T]{kind: KindRetry, retry: r} }

// Pending says the work waits for a condition; token lets whoever resumes it
// find it again.
func Pending[T any](wait WaitCondition, token string) Outcome[T] {
	return Outcome[T]{kind: KindPending, wait: wait, token: token}
}

// Cancelled says the work was stopped on purpose.
func Cancelled[T any](reason string) Outcome[T] {
	return Outcome[T]{kind: KindCancelled, reason: reason}
}

// Batch groups the outcomes of the items of a batch, in order. Nested
// batches are kept as they are; JoinAll and JoinAny see through them.
func Batch[T any](items ...Outcome[T]) Outcome[T] { return batch(slices.Clone(items)) }

// batch wraps items, which the caller gives up, in a Batch. An empty batch
// always holds a nil slice, so equal batches are equal however they were made.
func batch[T any](items []Outcome[T]) Outcome[T] {
	if len(items) == 0 {
		items = nil
	}
	return Outcome[T]{kind: KindBatch, items: items}
}

// Kind is the variant.
func (o Outcome[T]) Kind() Kind { return o.kind }

// IsOk reports whether o is Ok.
func (o Outcome[T]) IsOk() bool { return o.kind == KindOk }

// Value returns the value of an Ok outcome.
func (o Outcome[T]) Value() (T, bool) { return o.value, o.kind == KindOk }

// Err returns the error of an Err outcome, and nil for every other variant.
func (o Outcome[T]) Err() error { return o.err }

// Compensations returns the compensations of an Err outcome.
func (o Outcome[T]) Compensations() []Compensation { return slices.Clone(o.undo) }

// RetryInfo returns the retry details of a Retry outcome.
func (o Outcome[T]) RetryInfo() (RetryInfo, bool) { return o.retry, o.kind == KindRetry }

// Wait returns the wait condition and resume token of a Pending outcome.
func (o Outcome[T]) Wait() (cond WaitCondition, token string, ok bool) {
	return o.wait, o.token, o.kind == KindPending
}

// CancelReason returns the reason of a Cancelled outcome.
func (o Outcome[T]) CancelReason() (string, bool) { return o.reason, o.kind == KindCancelled }

// Items returns the outcomes of a Batch (nil for other variants).
func (o Outcome[T]) Items() []Outcome[T] { return slices.Clone(o.items) }

// String renders o for logs and examples, e.g. "ok(3)", "retry(after 1s,
// attempt 1/3: busy)", "batch[ok(1) err(boom)]".
func (o Outcome[T]) String() string {
	switch o.kind {
	case KindOk:
		return fmt.Sprintf("ok(%v)", o.value)
	case KindErr:
		return fmt.Sprintf("err(%v)", o.err)
	case KindRetry:
		limit := "∞"
		if o.retry.Max > 0 {
			limit = fmt.Sprint(o.retry.Max)
		}
		return fmt.Sprintf("retry(after %v, attempt %d/%s: %s)", o.retry.After, o.retry.Attempt, limit, o.retry.Reason)
	case KindPending:
		return fmt.Sprintf("pending(%v, token %q)", o.wait, o.token)
	case KindCancelled:
		return fmt.Sprintf("cancelled(%s)", o.reason)
	case KindBatch:
		parts := make([]string, len(o.items))
		for i, it := range o.items {
			parts[i] = it.String()
		}
		return "batch[" + strings.Join(parts, " ") + "]"
	}
	return o.kind.String()
}

// recast moves a variant that holds no T (Err, Retry, Pending, Cancelled)
// to another type parameter unchanged.
func recast[T, U any](o Outcome[T]) Outcome[U] {
	return Outcome[U]{kind: o.kind, err: o.err, undo: o.undo, retry: o.retry, wait: o.wait, token: o.token, reason: o.reason}
}
