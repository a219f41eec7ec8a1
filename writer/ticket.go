package writer

import (
	"context"
	"sync"

	"github.com/batpak-go/batpak/event"
)

// Ticket is a submitted request's claim on its receipts: the facade's
// Submit and SubmitBatch return one. Its waits are serialised (one at a
// time, each interruptible by its context) and the answer is kept once
// known, so it may be asked again, from several goroutines.
//
// A ticket is one allocation in the common case (one waiter, one receipt):
// the receipt of a single append is kept inline, and the channel a second
// concurrent waiter sleeps on is made only when there is one.
type Ticket struct {
	await func(context.Context, *Request) (*Request, error)
	final func(error) bool // an error of await that will not change (closed, outcome unknown)

	mu      sync.Mutex
	r       *Request        // until the answer is known
	waiting bool            // a waiter is in await
	wake    chan struct{}   // closed when that waiter is done; nil until another waits
	got     bool            // the answer is known
	res     []event.Receipt // the answer
	err     error
	one     [1]event.Receipt // res's storage for a single receipt
}

// NewTicket returns the ticket of r, already sent; await waits for r's
// answer, and final tells an error of await that is the answer for good
// from one a later wait may not get (its context's).
func NewTicket(r *Request, await func(context.Context, *Request) (*Request, error), final func(error) bool) *Ticket {
	return &Ticket{r: r, await: await, final: final}
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
	t.mu.Lock()
	for t.waiting { // another goroutine is waiting: wait for it, then look again
		if t.wake == nil {
			t.wake = make(chan struct{})
		}
		wake := t.wake
		t.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		t.mu.Lock()
	}
	if t.got {
		defer t.mu.Unlock()
		return t.res, t.err
	}
	t.waiting = true
	r := t.r
	t.mu.Unlock()

	res, err := t.await(ctx, r)

	t.mu.Lock()
	defer t.mu.Unlock()
	t.waiting = false
	if t.wake != nil {
		close(t.wake)
		t.wake = nil
	}
	if err != nil {
		if t.final(err) {
			t.got, t.err = true, err
		}
		return nil, err
	}
	t.got, t.err = true, res.Err
	if res.Err == nil {
		t.res = t.keep(res.Receipts)
	}
	r.Release()
	t.r = nil
	return t.res, t.err
}

// keep takes the receipts out of the request, which goes back to its
// pool: a single one, kept in the request itself, is copied into the
// ticket; several were allocated for this answer alone (receiptSlice) and
// are taken as they are.
func (t *Ticket) keep(rs []event.Receipt) []event.Receipt {
	if len(rs) == 1 {
		t.one[0] = rs[0]
		return t.one[:]
	}
	return rs
}
