package outcome_test

import (
	"errors"
	"testing"
	"time"

	"github.com/batpak-go/batpak/outcome"
)

func TestZeroOutcomeIsOkWithTheZeroValue(t *testing.T) {
	var o outcome.Outcome[string]
	if v, ok := o.Value(); !ok || v != "" || o.Kind() != outcome.KindOk || o.Err() != nil {
		t.Fatalf("zero outcome = %v", o)
	}
}

func TestAccessorsAnswerOnlyForTheirVariant(t *testing.T) {
	retry := outcome.RetryInfo{After: time.Second, Attempt: 3, Max: 3, Reason: "busy"}
	tests := []struct {
		o                                      outcome.Outcome[int]
		ok, err, retry, pending, cancel, batch bool
		str                                    string
	}{
		{o: outcome.Ok(7), ok: true, str: "ok(7)"},
		{o: outcome.Err[int](errBoom), err: true, str: "err(boom)"},
		{o: outcome.Retry[int](retry), retry: true, str: "retry(after 1s, attempt 3/3: busy)"},
		{o: outcome.Pending[int](outcome.After(time.Minute), "t"), pending: true, str: `pending(after 1m0s, token "t")`},
		{o: outcome.Cancelled[int]("bored"), cancel: true, str: "cancelled(bored)"},
		{o: outcome.Batch(outcome.Ok(1), outcome.Err[int](errBoom)), batch: true, str: "batch[ok(1) err(boom)]"},
	}
	for _, tt := range tests {
		t.Run(tt.o.Kind().String(), func(t *testing.T) {
			o := tt.o
			_, ok := o.Value()
			_, retry := o.RetryInfo()
			_, _, pending := o.Wait()
			_, cancel := o.CancelReason()
			if ok != tt.ok || (o.Err() != nil) != tt.err || retry != tt.retry || pending != tt.pending ||
				cancel != tt.cancel || (o.Items() != nil) != tt.batch || o.IsOk() != tt.ok {
				t.Errorf("accessors of %v disagree with its kind", o)
			}
			if o.String() != tt.str {
				t.Errorf("String() = %q, want %q", o.String(), tt.str)
			}
		})
	}
	if !retry.Exhausted() || (outcome.RetryInfo{Attempt: 9}).Exhausted() {
		t.Error("Exhausted: Max 0 means unlimited, Attempt >= Max means none left")
	}
}

func TestErrKeepsItsCompensationsAndNeverHoldsNil(t *testing.T) {
	o := outcome.Err[int](nil, outcome.Release("seat:12A"), outcome.Rollback(someID))
	if !errors.Is(o.Err(), outcome.ErrNilError) {
		t.Fatalf("Err(nil).Err() = %v", o.Err())
	}
	undo := o.Compensations()
	if len(undo) != 2 || undo[0].Kind != outcome.CompensateRelease || undo[0].Resource != "seat:12A" ||
		undo[1].Kind != outcome.CompensateRollback || undo[1].Events[0] != someID {
		t.Fatalf("compensations %+v", undo)
	}
	undo[0].Resource = "changed"
	if o.Compensations()[0].Resource != "seat:12A" {
		t.Fatal("Compensations exposed the outcome's own slice")
	}
	// Compensations survive Map, which passes failures through.
	if m := outcome.Map(o, func(int) string { return "" }); len(m.Compensations()) != 2 {
		t.Fatal("Map dropped compensations")
	}
}

func TestJoinAnyPrefersOutcomesThatMayStillSucceed(t *testing.T) {
	retry := outcome.Retry[int](outcome.RetryInfo{Attempt: 1, Reason: "busy"})
	got := outcome.JoinAny(outcome.Err[int](errBoom), outcome.Cancelled[int]("x"), retry, outcome.Pending[int](outcome.After(1), "p"))
	if got.Kind() != outcome.KindRetry {
		t.Errorf("JoinAny = %v, want the first retry/pending", got)
	}
	if got := outcome.JoinAny(outcome.Cancelled[int]("x"), outcome.Err[int](errBoom)); got.Kind() != outcome.KindCancelled {
		t.Errorf("JoinAny of failures = %v, want the first", got)
	}
	if got := outcome.JoinAny[int](); !errors.Is(got.Err(), outcome.ErrNoOutcomes) {
		t.Errorf("JoinAny() = %v", got)
	}
	if got := outcome.JoinAny(outcome.Batch(outcome.Err[int](errBoom), outcome.Batch(outcome.Ok(5)))); got.String() != "ok(5)" {
		t.Errorf("JoinAny does not see through batches: %v", got)
	}
}

func TestJoinAllOfNothingIsAnEmptySuccess(t *testing.T) {
	v, ok := outcome.JoinAll[int]().Value()
	if !ok || v == nil || len(v) != 0 {
		t.Fatalf("JoinAll() = %v, %v", v, ok)
	}
}

func TestZipTakesTheFirstFailure(t *testing.T) {
	if got := outcome.Zip(outcome.Ok(1), outcome.Ok("a")); got.String() != "ok({1 a})" {
		t.Errorf("Zip(ok, ok) = %v", got)
	}
	if got := outcome.Zip(outcome.Cancelled[int]("left"), outcome.Err[string](errBoom)); got.String() != "cancelled(left)" {
		t.Errorf("Zip(cancelled, err) = %v", got)
	}
	if got := outcome.Zip(outcome.Ok(1), outcome.Err[string](errBoom)); got.String() != "err(boom)" {
		t.Errorf("Zip(ok, err) = %v", got)
	}
}

func TestWaitConditionsAreDataThatPrint(t *testing.T) {
	w := outcome.AllOf(outcome.After(time.Second), outcome.AnyOf(outcome.Custom("quorum", []byte{2}), outcome.OnEvent(someID)))
	want := "all(after 1s, any(custom quorum, event " + someID.String() + "))"
	if w.String() != want {
		t.Errorf("String() = %q, want %q", w.String(), want)
	}
	if w.Kind != outcome.WaitAll || w.Conditions[1].Conditions[0].Data[0] != 2 {
		t.Errorf("condition %+v", w)
	}
	if c := outcome.CustomCompensation("refund", []byte("x")); c.Kind != outcome.CompensateCustom || c.Tag != "refund" {
		t.Errorf("custom compensation %+v", c)
	}
	if c := outcome.Notify("ops", "undo"); c.Target != "ops" || c.Message != "undo" {
		t.Errorf("notify %+v", c)
	}
}

func TestBatchCopiesItsItems(t *testing.T) {
	items := []outcome.Outcome[int]{outcome.Ok(1)}
	b := outcome.Batch(items...)
	items[0] = outcome.Ok(2)
	b.Items()[0] = outcome.Ok(3)
	if b.String() != "batch[ok(1)]" {
		t.Fatalf("batch shares memory with its caller: %v", b)
	}
}
