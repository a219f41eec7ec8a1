package outcome_test

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/outcome"
)

// The laws are checked on outcomes drawn from a seeded generator, so a
// failure names a seed that reproduces it.

const trials = 2000

var (
	errBoom = errors.New("boom")
	errOdd  = errors.New("odd")
	someID  = event.NewID()
)

// genOutcome draws a random outcome of any variant; batches nest up to depth.
func genOutcome(r *rand.Rand, depth int) outcome.Outcome[int] {
	n := 5
	if depth > 0 {
		n = 6
	}
	switch r.IntN(n) {
	case 0, 1:
		return outcome.Ok(r.IntN(200) - 100)
	case 2:
		if r.IntN(2) == 0 {
			return outcome.Err[int](errBoom)
		}
		return outcome.Err[int](errOdd, outcome.Rollback(someID), outcome.Notify("ops", "undo"))
	case 3:
		return outcome.Retry[int](outcome.RetryInfo{After: time.Duration(r.IntN(5)) * time.Second, Attempt: 1 + r.IntN(3), Max: 3, Reason: "busy"})
	case 4:
		if r.IntN(2) == 0 {
			return outcome.Cancelled[int]("user left")
		}
		return outcome.Pending[int](outcome.AnyOf(outcome.After(time.Minute), outcome.OnEvent(someID)), "tok")
	}
	items := make([]outcome.Outcome[int], r.IntN(4))
	for i := range items {
		items[i] = genOutcome(r, depth-1)
	}
	return outcome.Batch(items...)
}

// steps are the functions the laws are checked with; each can produce any
// variant, so AndThen's laws are exercised across variants.
var steps = []func(int) outcome.Outcome[int]{
	func(x int) outcome.Outcome[int] { return outcome.Ok(x*3 + 1) },
	func(x int) outcome.Outcome[int] {
		if x%2 != 0 {
			return outcome.Err[int](errOdd)
		}
		return outcome.Ok(x / 2)
	},
	func(x int) outcome.Outcome[int] {
		if x < 0 {
			return outcome.Retry[int](outcome.RetryInfo{After: time.Second, Attempt: 1, Max: 2, Reason: "negative"})
		}
		return outcome.Ok(-x)
	},
	func(x int) outcome.Outcome[int] { return outcome.Batch(outcome.Ok(x), outcome.Ok(x+1)) },
	func(x int) outcome.Outcome[int] {
		if x%5 == 0 {
			return outcome.Pending[int](outcome.After(time.Duration(x)), "five")
		}
		return outcome.Cancelled[int]("not five")
	},
}

var maps = []func(int) int{
	func(x int) int { return x + 1 },
	func(x int) int { return x * x },
	func(x int) int { return -x },
}

func forAll(t *testing.T, law func(r *rand.Rand) (ok bool, detail string)) {
	t.Helper()
	for seed := range uint64(trials) {
		r := rand.New(rand.NewPCG(seed, 0x5eed))
		if ok, detail := law(r); !ok {
			t.Fatalf("seed %d: %s", seed, detail)
		}
	}
}

func same[T any](a, b outcome.Outcome[T]) (bool, string) {
	return reflect.DeepEqual(a, b), a.String() + "  !=  " + b.String()
}

func TestLawMapIdentity(t *testing.T) {
	forAll(t, func(r *rand.Rand) (bool, string) {
		o := genOutcome(r, 3)
		return same(outcome.Map(o, func(x int) int { return x }), o)
	})
}

func TestLawMapComposition(t *testing.T) {
	forAll(t, func(r *rand.Rand) (bool, string) {
		o, f, g := genOutcome(r, 3), maps[r.IntN(len(maps))], maps[r.IntN(len(maps))]
		return same(outcome.Map(outcome.Map(o, f), g), outcome.Map(o, func(x int) int { return g(f(x)) }))
	})
}

func TestLawLeftIdentity(t *testing.T) {
	forAll(t, func(r *rand.Rand) (bool, string) {
		x, f := r.IntN(200)-100, steps[r.IntN(len(steps))]
		return same(outcome.AndThen(outcome.Ok(x), f), f(x))
	})
}

func TestLawRightIdentity(t *testing.T) {
	forAll(t, func(r *rand.Rand) (bool, string) {
		o := genOutcome(r, 3)
		return same(outcome.AndThen(o, outcome.Ok[int]), o)
	})
}

func TestLawAssociativity(t *testing.T) {
	forAll(t, func(r *rand.Rand) (bool, string) {
		o, f, g := genOutcome(r, 3), steps[r.IntN(len(steps))], steps[r.IntN(len(steps))]
		left := outcome.AndThen(outcome.AndThen(o, f), g)
		right := outcome.AndThen(o, func(x int) outcome.Outcome[int] { return outcome.AndThen(f(x), g) })
		return same(left, right)
	})
}

func genItems(r *rand.Rand) []outcome.Outcome[int] {
	items := make([]outcome.Outcome[int], r.IntN(5))
	for i := range items {
		items[i] = genOutcome(r, 2)
	}
	return items
}

func TestLawBatchDistributesOverMapAndThenAndZip(t *testing.T) {
	forAll(t, func(r *rand.Rand) (bool, string) {
		items, f, g := genItems(r), maps[r.IntN(len(maps))], steps[r.IntN(len(steps))]
		other := genOutcome(r, 0) // not a batch: the left side distributes first
		mapped := make([]outcome.Outcome[int], len(items))
		chained := make([]outcome.Outcome[int], len(items))
		zippedL := make([]outcome.Outcome[outcome.Pair[int, int]], len(items))
		zippedR := make([]outcome.Outcome[outcome.Pair[int, int]], len(items))
		for i, it := range items {
			mapped[i] = outcome.Map(it, f)
			chained[i] = outcome.AndThen(it, g)
			zippedL[i] = outcome.Zip(it, other)
			zippedR[i] = outcome.Zip(other, it)
		}
		b := outcome.Batch(items...)
		if ok, d := same(outcome.Map(b, f), outcome.Batch(mapped...)); !ok {
			return false, "Map: " + d
		}
		if ok, d := same(outcome.AndThen(b, g), outcome.Batch(chained...)); !ok {
			return false, "AndThen: " + d
		}
		if ok, d := same(outcome.Zip(b, other), outcome.Batch(zippedL...)); !ok {
			return false, "Zip left: " + d
		}
		if ok, d := same(outcome.Zip(other, b), outcome.Batch(zippedR...)); !ok {
			return false, "Zip right: " + d
		}
		return true, ""
	})
}

// leaves flattens batches the way JoinAll and JoinAny are documented to.
func leaves(os []outcome.Outcome[int]) []outcome.Outcome[int] {
	var out []outcome.Outcome[int]
	for _, o := range os {
		if o.Kind() == outcome.KindBatch {
			out = append(out, leaves(o.Items())...)
		} else {
			out = append(out, o)
		}
	}
	return out
}

func TestLawJoinAllIsOkExactlyWhenEveryLeafIs(t *testing.T) {
	forAll(t, func(r *rand.Rand) (bool, string) {
		items := genItems(r)
		got := outcome.JoinAll(items...)
		if ok, d := same(got, outcome.JoinAll(outcome.Batch(items...))); !ok {
			return false, "a batch is not its items: " + d
		}
		var want []int
		for _, l := range leaves(items) {
			v, ok := l.Value()
			if !ok {
				return got.Kind() == l.Kind() && got.Err() == l.Err(), "first non-Ok leaf " + l.String() + " vs " + got.String()
			}
			want = append(want, v)
		}
		v, ok := got.Value()
		return ok && len(v) == len(want) && (len(v) == 0 || reflect.DeepEqual(v, want)), got.String()
	})
}

func TestLawJoinAnyIsTheFirstOkLeaf(t *testing.T) {
	forAll(t, func(r *rand.Rand) (bool, string) {
		items := genItems(r)
		got := outcome.JoinAny(items...)
		for _, l := range leaves(items) {
			if l.IsOk() {
				return same(got, l)
			}
		}
		return !got.IsOk(), "no Ok leaf, yet " + got.String()
	})
}
