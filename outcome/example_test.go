package outcome_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/batpak-go/batpak/outcome"
)

type seat struct{ ID string }

func reserve(id string, free bool) outcome.Outcome[seat] {
	if !free {
		return outcome.Retry[seat](outcome.RetryInfo{After: 2 * time.Second, Attempt: 1, Max: 3, Reason: "seat locked"})
	}
	return outcome.Ok(seat{ID: id})
}

func Example() {
	pay := func(s seat) outcome.Outcome[string] {
		if s.ID == "13" {
			return outcome.Err[string](errors.New("card declined"), outcome.Release("seat:"+s.ID))
		}
		return outcome.Ok("ticket for " + s.ID)
	}
	for _, o := range []outcome.Outcome[string]{
		outcome.AndThen(reserve("12A", true), pay),
		outcome.AndThen(reserve("12B", false), pay),
		outcome.AndThen(reserve("13", true), pay),
	} {
		switch o.Kind() {
		case outcome.KindOk:
			v, _ := o.Value()
			fmt.Println("ok:", v)
		case outcome.KindRetry:
			r, _ := o.RetryInfo()
			fmt.Println("retry in", r.After, "because", r.Reason)
		case outcome.KindErr:
			fmt.Println("failed:", o.Err(), "then release", o.Compensations()[0].Resource)
		}
	}
	// Output:
	// ok: ticket for 12A
	// retry in 2s because seat locked
	// failed: card declined then release seat:13
}

func ExampleMap_batch() {
	// A function applied to a batch is applied to each item.
	b := outcome.Batch(outcome.Ok(1), outcome.Cancelled[int]("skipped"), outcome.Ok(3))
	fmt.Println(outcome.Map(b, func(x int) int { return x * 10 }))
	// Output: batch[ok(10) cancelled(skipped) ok(30)]
}

func ExampleJoinAll() {
	fmt.Println(outcome.JoinAll(outcome.Ok(1), outcome.Batch(outcome.Ok(2), outcome.Ok(3))))
	fmt.Println(outcome.JoinAll(outcome.Ok(1), outcome.Pending[int](outcome.After(time.Minute), "job-7")))
	// Output:
	// ok([1 2 3])
	// pending(after 1m0s, token "job-7")
}

func ExampleJoinAny() {
	mirrors := []outcome.Outcome[string]{
		outcome.Err[string](errors.New("eu down")),
		outcome.Ok("us"),
		outcome.Ok("asia"),
	}
	fmt.Println(outcome.JoinAny(mirrors...))
	// Output: ok(us)
}

func ExampleZip() {
	fmt.Println(outcome.Zip(outcome.Ok("alice"), outcome.Ok(42)))
	fmt.Println(outcome.Zip(outcome.Ok("alice"), outcome.Cancelled[int]("logged out")))
	// Output:
	// ok({alice 42})
	// cancelled(logged out)
}

func ExamplePending() {
	o := outcome.Pending[int](outcome.AnyOf(outcome.After(time.Hour), outcome.Custom("approval", nil)), "refund-99")
	cond, token, _ := o.Wait()
	fmt.Println(cond, "/", token)
	// Output: any(after 1h0m0s, custom approval) / refund-99
}
