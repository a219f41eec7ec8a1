package gatekeeper

import (
	"context"

	"github.com/batpak-go/batpak/event"
)

// Appender is the part of the store that Commit needs. *batpak.Store
// satisfies it; tests use an in-memory fake.
type Appender interface {
	AppendWithOptions(ctx context.Context, coord event.Coordinate, kind event.EventKind,
		payload any, opts event.AppendOptions) (event.Receipt, error)
}

// Committed is what a successful Commit returns: the payload, the store's
// receipt for the event (embedded, so c.ID, c.Sequence, c.Global and
// c.Hash are at hand) and the audit record written with it.
type Committed[T any] struct {
	event.Receipt
	Payload T
	Audit   Audit
}

// Limiter is implemented by stores that report their codec and payload
// bound; both batpak stores do. Commit uses it to refuse, without spending
// the receipt, one whose envelope does not fit the store it is committed to.
type Limiter interface {
	Limits() event.Limits
}

// Commit appends the receipt's payload to store, wrapped in an Envelope that
// records the gates passed or the bypass (see the package documentation for
// the format), and returns the committed event. The envelope appended is
// the one Evaluate or Bypass encoded.
//
// If store is a Limiter (both batpak stores are), Commit first checks the
// envelope against the store's own limits, which may differ from the
// proposal's (Proposal.Limits): a store with another codec gets the
// envelope encoded with its codec, and an envelope above the store's bound
// is refused with event.ErrPayloadTooLarge without spending the receipt.
//
// A receipt is spent by the first Commit that gets past the checks below,
// whether or not the append then succeeds. That is deliberate: after an
// error the append may still have happened (a context cancelled while the
// store was syncing, say), and the gates should in any case judge the state
// as it is now. To retry, evaluate again; give the proposal an idempotency
// key to make a retry after an uncertain failure harmless.
//
// Commit returns ErrZeroReceipt for the zero Receipt, ErrReceiptSpent for a
// used one, ctx.Err() or the store's limits' error without spending the
// receipt, and otherwise the store's error as it is (errors.Is works
// against the store's sentinels).
func Commit[T any](ctx context.Context, store Appender, r Receipt[T]) (Committed[T], error) {
	if r.s == nil {
		return Committed[T]{}, ErrZeroReceipt
	}
	if err := ctx.Err(); err != nil {
		return Committed[T]{}, err
	}
	p := r.s.proposal
	env := Envelope[T]{
		Version: EnvelopeVersion,
		Payload: p.Payload,
		Gates:   r.s.gates,
		Bypass:  r.s.bypass,
	}
	enc := r.s.encoded
	if ls, ok := store.(Limiter); ok {
		var err error
		if enc, err = fit(enc, env, ls.Limits()); err != nil {
			return Committed[T]{}, err
		}
	}
	// The compare-and-swap is the whole of "at most once": of any number of
	// goroutines holding copies of r, exactly one sees false here.
	if !r.s.spent.CompareAndSwap(false, true) {
		return Committed[T]{}, ErrReceiptSpent
	}
	rc, err := store.AppendWithOptions(ctx, p.Coordinate, p.Kind, enc, p.Options)
	if err != nil {
		return Committed[T]{}, err
	}
	return Committed[T]{Receipt: rc, Payload: p.Payload, Audit: env.audit()}, nil
}

// fit returns the envelope as the store with limits l appends it: enc if
// it was encoded with l's codec and fits l's bound.
func fit[T any](enc event.Encoded, env Envelope[T], l event.Limits) (event.Encoded, error) {
	if enc.Codec != l.Codec {
		return l.Encode(env)
	}
	if err := l.CheckPayload(len(enc.Bytes)); err != nil {
		return enc, err
	}
	return enc, nil
}
