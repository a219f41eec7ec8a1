package writer

import (
	"context"

	"github.com/batpak-go/batpak/event"
)

// Ticket is a submitted request's claim on its receipts: the facade's
// Submit and SubmitBatch return one. Its waits are serialised (one at a
// time, each interruptible by its context) and the answer is kept once
// known, so it may be asked again, from several goroutines.
type Ticket struct {
	r     *Request
	await func(context.Context, *Request) (*Request, error)
	final func(error) bool // an error of await that will not change (closed, outcome unknown)
	sem   chan struct{}    // one waiter at a time
	got   bool             // guarded by sem
	res   []event.Receipt  // guarded by sem
	err   error            // guarded by sem
}

// NewTicket returns the ticket of r, already sent; await waits for r's
// answer, and final tells an error of await that is the answer for good
// from one a later wait may not get (its context's).
func NewTicket(r *Request, await func(context.Context, *Request) (*Request, error), final func(error) bool) *Ticket {
	return &Ticket{r: r, await: await, final: final, sem: make(chan struct{}, 1)}
}

// Wait returns the receipt of a single append (the first receipt of a
// batch).
func (t *Ticket) Wait(ctx context.Context) (event.Receipt, error) {
	rs, err := t.WaitAll(ctx)
	if err != nil {
		return event.Receipt{}, err
	}
	return rs[0], nil
}

// WaitAll returns every receipt: one per item of a batch.
func (t *Ticket) WaitAll(ctx context.Context) ([]event.Receipt, error) {
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-t.sem }()
	if t.got {
		return t.res, t.err
	}
	res, err := t.await(ctx, t.r)
	if err != nil {
		if t.final(err) {
			t.got, t.err = true, err
		}
		return nil, err
	}
	t.got, t.err = true, res.Err
	if res.Err == nil {
		t.res = append([]event.Receipt(nil), res.Receipts...)
	}
	t.r.Release()
	t.r = nil
	return t.res, t.err
}
