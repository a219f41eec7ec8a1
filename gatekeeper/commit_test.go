package gatekeeper_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/gatekeeper"
)

type withdrawal struct {
	Member string
	Amount int
}

var withdrawGates = gatekeeper.MustGateSet(
	gatekeeper.Gate[withdrawal]{
		Name: "positive",
		Check: func(w withdrawal) *gatekeeper.Denial {
			if w.Amount <= 0 {
				return gatekeeper.Deny("not_positive", "amount must be positive")
			}
			return nil
		},
	},
	gatekeeper.Gate[withdrawal]{
		Name: "limit",
		Check: func(w withdrawal) *gatekeeper.Denial {
			if w.Amount > 100 {
				return gatekeeper.Deny("over_limit", "over the limit").With("limit", 100)
			}
			return nil
		},
	},
)

func evaluated(t *testing.T, w withdrawal) gatekeeper.Receipt[withdrawal] {
	t.Helper()
	r, err := gatekeeper.Evaluate(withdrawGates, w, gatekeeper.Propose(testCoord, testKind, w))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCommitAppendsThePayloadWithTheGatesPassed(t *testing.T) {
	store := newFakeStore()
	w := withdrawal{Member: "alice", Amount: 40}
	c, err := gatekeeper.Commit(t.Context(), store, evaluated(t, w))
	if err != nil {
		t.Fatal(err)
	}
	evs := store.all()
	if len(evs) != 1 {
		t.Fatalf("store has %d events, want 1", len(evs))
	}
	e := evs[0]
	if c.Payload != w || c.ID != e.ID || c.Sequence != 0 || c.Hash != e.Hash.Self || c.Kind != testKind {
		t.Errorf("Committed %+v does not describe stored event %+v", c, e.Header)
	}
	if c.Audit.Bypassed() || !slices.Equal(c.Audit.Gates, []string{"positive", "limit"}) {
		t.Errorf("Committed.Audit = %+v", c.Audit)
	}
	got, audit, err := gatekeeper.Decode[withdrawal](e)
	if err != nil || got != w {
		t.Fatalf("Decode = %+v, %v; want %+v", got, err, w)
	}
	if !slices.Equal(audit.Gates, []string{"positive", "limit"}) || audit.Bypass != nil {
		t.Errorf("audit on the log = %+v", audit)
	}
}

func TestCommitPassesTheProposalOptionsToTheStore(t *testing.T) {
	store := newFakeStore()
	p := gatekeeper.Propose(testCoord, testKind, withdrawal{Amount: 1})
	p.Options = event.Expect(0)
	p.Options.IdempotencyKey = "w-1"
	p.Options.Flags = 0x4
	r, _ := gatekeeper.Evaluate(withdrawGates, p.Payload, p)
	if _, err := gatekeeper.Commit(t.Context(), store, r); err != nil {
		t.Fatal(err)
	}
	if e := store.all()[0]; e.IdempotencyKey != "w-1" || e.Flags != 0x4 {
		t.Errorf("stored key %q flags %#x", e.IdempotencyKey, e.Flags)
	}
	// The gates pass again, but the entity moved past the expected sequence.
	r, _ = gatekeeper.Evaluate(withdrawGates, p.Payload, gatekeeper.Proposal[withdrawal]{
		Coordinate: p.Coordinate, Kind: p.Kind, Payload: p.Payload, Options: event.Expect(0),
	})
	if _, err := gatekeeper.Commit(t.Context(), store, r); !errors.Is(err, errFakeSequence) {
		t.Errorf("stale expected sequence: %v, want the store's error as it is", err)
	}
}

func TestCommitRefusesTheZeroReceipt(t *testing.T) {
	store := newFakeStore()
	var r gatekeeper.Receipt[withdrawal]
	if _, err := gatekeeper.Commit(t.Context(), store, r); !errors.Is(err, gatekeeper.ErrZeroReceipt) {
		t.Fatalf("Commit(zero) = %v, want ErrZeroReceipt", err)
	}
	if len(store.all()) != 0 {
		t.Fatal("the zero receipt reached the store")
	}
	if !r.IsZero() || r.Gates() != nil || r.Payload() != (withdrawal{}) || r.Spent() || r.String() != "gatekeeper.Receipt(zero)" {
		t.Error("zero receipt accessors are not zero")
	}
	if _, ok := r.Bypass(); ok {
		t.Error("zero receipt claims a bypass")
	}
}

func TestCommitUsesAReceiptOnce(t *testing.T) {
	store := newFakeStore()
	r := evaluated(t, withdrawal{Amount: 5})
	copyOfR := r
	if _, err := gatekeeper.Commit(t.Context(), store, r); err != nil {
		t.Fatal(err)
	}
	if !copyOfR.Spent() {
		t.Error("a copy of a used receipt does not report Spent")
	}
	if _, err := gatekeeper.Commit(t.Context(), store, copyOfR); !errors.Is(err, gatekeeper.ErrReceiptSpent) {
		t.Fatalf("second Commit = %v, want ErrReceiptSpent", err)
	}
	if n := len(store.all()); n != 1 {
		t.Fatalf("store has %d events, want 1", n)
	}
}

func TestCommitUsesAReceiptOnceWhenGoroutinesRace(t *testing.T) {
	const racers = 64
	for round := range 20 {
		store := newFakeStore()
		r := evaluated(t, withdrawal{Amount: round + 1})
		var (
			wg             sync.WaitGroup
			start          = make(chan struct{})
			won, refused   atomic.Int32
			unexpectedErrs = make(chan error, racers)
		)
		for range racers {
			rc := r // each goroutine holds its own copy
			wg.Go(func() {
				<-start
				_, err := gatekeeper.Commit(context.Background(), store, rc)
				switch {
				case err == nil:
					won.Add(1)
				case errors.Is(err, gatekeeper.ErrReceiptSpent):
					refused.Add(1)
				default:
					unexpectedErrs <- err
				}
			})
		}
		close(start)
		wg.Wait()
		close(unexpectedErrs)
		for err := range unexpectedErrs {
			t.Errorf("unexpected error: %v", err)
		}
		if won.Load() != 1 || refused.Load() != racers-1 || len(store.all()) != 1 {
			t.Fatalf("round %d: %d commits won, %d refused, %d events; want 1, %d, 1",
				round, won.Load(), refused.Load(), len(store.all()), racers-1)
		}
	}
}

func TestFailedCommitSpendsTheReceipt(t *testing.T) {
	store := newFakeStore()
	boom := errors.New("disk on fire")
	store.fail(boom)
	r := evaluated(t, withdrawal{Amount: 5})
	if _, err := gatekeeper.Commit(t.Context(), store, r); !errors.Is(err, boom) {
		t.Fatalf("Commit = %v, want the store's error", err)
	}
	store.fail(nil)
	if _, err := gatekeeper.Commit(t.Context(), store, r); !errors.Is(err, gatekeeper.ErrReceiptSpent) {
		t.Fatalf("Commit after a failed append = %v, want ErrReceiptSpent: the append may have happened", err)
	}
}

func TestCommitWithADoneContextKeepsTheReceipt(t *testing.T) {
	store := newFakeStore()
	r := evaluated(t, withdrawal{Amount: 5})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := gatekeeper.Commit(ctx, store, r); !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit(cancelled) = %v, want context.Canceled", err)
	}
	if r.Spent() {
		t.Fatal("a commit that never started spent the receipt")
	}
	if _, err := gatekeeper.Commit(t.Context(), store, r); err != nil {
		t.Fatalf("Commit after the cancelled attempt: %v", err)
	}
}

func TestReceiptAccessorsDescribeTheProposal(t *testing.T) {
	w := withdrawal{Member: "bob", Amount: 7}
	r := evaluated(t, w)
	if r.IsZero() || r.Payload() != w || r.Proposal().Coordinate != testCoord || r.Proposal().Kind != testKind {
		t.Errorf("receipt does not describe its proposal: %v", r)
	}
	g := r.Gates()
	g[0] = "tampered"
	if r.Gates()[0] != "positive" {
		t.Error("Gates() exposed the receipt's own slice")
	}
	if _, ok := r.Bypass(); ok {
		t.Error("an evaluated receipt claims a bypass")
	}
	const want = "gatekeeper.Receipt(vault:guild@realm:eu 0x1:0x001, passed [positive limit])"
	if r.String() != want {
		t.Errorf("String() = %q, want %q", r.String(), want)
	}
}
