package writer

import (
	"context"
	"errors"
	"testing"

	"github.com/batpak-go/batpak/event"
	"github.com/stretchr/testify/require"
)

// TestTicketWaitersTakeTurns: a ticket's waits are serialised; a waiter
// whose context ends gives its turn to the next, which gets the answer; the
// answer is kept, and a single receipt outlives the pooled request.
func TestTicketWaitersTakeTurns(t *testing.T) {
	r := NewAppend(Item{}, event.OnWrite)
	entered := make(chan struct{}, 2) // an await began
	answer := make(chan struct{})     // the writer answers
	await := func(ctx context.Context, r *Request) (*Request, error) {
		entered <- struct{}{}
		select {
		case <-answer:
			r.Receipts = r.receiptSlice(1)
			r.Receipts[0] = event.Receipt{Global: 42}
			return r, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	tk := NewTicket(r, await, func(error) bool { return false })

	// The first waiter is in await; a second waits for its turn.
	ctx1, cancel1 := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { _, err := tk.WaitAll(ctx1); first <- err }()
	<-entered
	type result struct {
		rc  event.Receipt
		err error
	}
	second := make(chan result, 1)
	go func() {
		rc, err := tk.Wait(context.Background())
		second <- result{rc, err}
	}()

	// A third, whose context is already done, does not wait for a turn.
	done, cancel3 := context.WithCancel(context.Background())
	cancel3()
	_, err := tk.WaitAll(done)
	require.ErrorIs(t, err, context.Canceled)

	cancel1() // the first gives up: the second takes its turn
	require.ErrorIs(t, <-first, context.Canceled)
	<-entered
	close(answer)
	got := <-second
	require.NoError(t, got.err)
	require.Equal(t, uint64(42), got.rc.Global)

	rs, err := tk.WaitAll(context.Background()) // kept: await is not called again
	require.NoError(t, err)
	require.Equal(t, []event.Receipt{{Global: 42}}, rs)
	r2 := NewAppend(Item{}, event.OnWrite) // the pool may hand r back; the receipt stays
	r2.receipt1[0] = event.Receipt{Global: 7}
	require.Equal(t, uint64(42), rs[0].Global)
	r2.Release()
}

// TestTicketKeepsFinalErrors: an error await calls final is the answer
// for good; another is not, and a later wait tries again.
func TestTicketKeepsFinalErrors(t *testing.T) {
	errFinal, errPassing := errors.New("final"), errors.New("passing")
	calls := 0
	await := func(context.Context, *Request) (*Request, error) {
		calls++
		if calls == 1 {
			return nil, errPassing
		}
		return nil, errFinal
	}
	tk := NewTicket(NewAppend(Item{}, event.OnWrite), await, func(err error) bool { return err == errFinal })
	_, err := tk.WaitAll(context.Background())
	require.ErrorIs(t, err, errPassing)
	_, err = tk.WaitAll(context.Background())
	require.ErrorIs(t, err, errFinal)
	_, err = tk.WaitAll(context.Background())
	require.ErrorIs(t, err, errFinal)
	require.Equal(t, 2, calls)
}
