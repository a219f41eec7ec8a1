package supervisor

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// The budget is a plain value: these tests drive it with explicit times and
// no goroutines.

func TestBudgetLifetimePolicies(t *testing.T) {
	t0 := time.Unix(0, 0)
	tests := []struct {
		name   string
		policy Policy
		want   []bool // allow() results for successive failures
	}{
		{"Never", Never(), []bool{false, false}},
		{"Once", Once(), []bool{true, false, false}},
		{"BoundedWithoutWindow", Bounded{MaxRestarts: 3}, []bool{true, true, true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.policy.newBudget()
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range tt.want {
				// Lifetime budgets ignore time, however much passes.
				now := t0.Add(time.Duration(i) * 1000 * time.Hour)
				if got := b.allow(now); got != want {
					t.Fatalf("failure %d: allow = %v, want %v", i+1, got, want)
				}
			}
		})
	}
}

func TestBudgetWindowSlides(t *testing.T) {
	t0 := time.Unix(0, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	b, err := Bounded{MaxRestarts: 2, Within: 10 * time.Second}.newBudget()
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		at   int // seconds after t0
		want bool
	}{
		{0, true},   // 1st in window
		{1, true},   // 2nd in window
		{9, false},  // 3rd within 10s of t=0: refused, and not recorded
		{10, true},  // t=0 has left the window
		{10, false}, // window now holds t=1 and t=10
		{11, true},  // t=1 has left
		{19, false}, // t=10 and t=11 still in
		{21, true},  // both gone: two more allowed
		{21, true},
		{21, false},
	}
	for i, s := range steps {
		if got := b.allow(at(s.at)); got != s.want {
			t.Fatalf("step %d (t=%ds): allow = %v, want %v", i, s.at, got, s.want)
		}
	}
	if len(b.stamps) != 2 {
		t.Fatalf("ring holds %d stamps, want it bounded at MaxRestarts=2", len(b.stamps))
	}
}

func TestBoundedRejectsNegativeMaxRestarts(t *testing.T) {
	if _, err := (Bounded{MaxRestarts: -1}).newBudget(); err == nil {
		t.Fatal("newBudget accepted MaxRestarts -1")
	}
}

func TestDecide(t *testing.T) {
	now := time.Unix(0, 0)
	boom := errors.New("boom")
	tests := []struct {
		name     string
		err      error
		stopping bool
		policy   Policy
		want     verdict
	}{
		{"NilFinishes", nil, false, Once(), verdictFinished},
		{"DoNotRestartEnds", ErrDoNotRestart, false, Once(), verdictEnded},
		{"WrappedDoNotRestartEnds", fmt.Errorf("drained: %w", ErrDoNotRestart), false, Once(), verdictEnded},
		{"FailureWithinBudgetRestarts", boom, false, Once(), verdictRestart},
		{"PanicWithinBudgetRestarts", &PanicError{Value: "x"}, false, Once(), verdictRestart},
		{"FailureUnderNeverEscalates", boom, false, Never(), verdictEscalate},
		{"ErrorWhileStoppingIsNoFailure", boom, true, Never(), verdictStopped},
		{"NilWhileStoppingIsStopped", nil, true, Never(), verdictStopped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.policy.newBudget()
			if err != nil {
				t.Fatal(err)
			}
			if got := decide(tt.err, tt.stopping, b, now); got != tt.want {
				t.Fatalf("decide = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDecideChargesBudgetOnlyForFailures(t *testing.T) {
	now := time.Unix(0, 0)
	b, _ := Once().newBudget()
	for _, err := range []error{nil, ErrDoNotRestart} {
		decide(err, false, b, now)
	}
	decide(errors.New("while stopping"), true, b, now)
	if got := decide(errors.New("first real failure"), false, b, now); got != verdictRestart {
		t.Fatalf("first failure after non-failures: %v, want restart", got)
	}
	if got := decide(errors.New("second"), false, b, now); got != verdictEscalate {
		t.Fatalf("second failure under Once: %v, want escalate", got)
	}
}

func TestPanicErrorUnwrapsErrorValues(t *testing.T) {
	sentinel := errors.New("sentinel")
	pe := &PanicError{Service: "s", Value: fmt.Errorf("wrapped: %w", sentinel)}
	if !errors.Is(pe, sentinel) {
		t.Fatal("errors.Is does not see through a panic(err)")
	}
	if (&PanicError{Value: "text"}).Unwrap() != nil {
		t.Fatal("non-error panic value unwrapped to non-nil")
	}
}
