package outcome

import "errors"

// The combinators are functions rather than methods because Go methods
// cannot introduce type parameters (Map changes T to U).
//
// Two rules hold for all of them:
//   - Only Ok values are transformed. Err, Retry, Pending and Cancelled pass
//     through unchanged (retyped), so a failure or a wait is never lost.
//   - Batch distributes: a function applied to a batch is applied to each
//     item, and the batch keeps its shape. Map(Batch(a, b), f) is
//     Batch(Map(a, f), Map(b, f)).

// Map applies f to the value of an Ok outcome.
func Map[T, U any](o Outcome[T], f func(T) U) Outcome[U] {
	switch o.kind {
	case KindOk:
		return Ok(f(o.value))
	case KindBatch:
		items := make([]Outcome[U], len(o.items))
		for i, it := range o.items {
			items[i] = Map(it, f)
		}
		return batch(items)
	}
	return recast[T, U](o)
}

// AndThen chains a step that can itself retry, wait, fail or fan out: it
// applies f to the value of an Ok outcome and returns f's outcome.
func AndThen[T, U any](o Outcome[T], f func(T) Outcome[U]) Outcome[U] {
	switch o.kind {
	case KindOk:
		return f(o.value)
	case KindBatch:
		items := make([]Outcome[U], len(o.items))
		for i, it := range o.items {
			items[i] = AndThen(it, f)
		}
		return batch(items)
	}
	return recast[T, U](o)
}

// Pair is the value of a Zip.
type Pair[A, B any] struct {
	First  A
	Second B
}

// Zip combines two outcomes: Ok(Pair) if both are Ok, else the first one
// (a before b) that is not. A batch on either side distributes, the left
// side first: Zip(Batch(a1, a2), b) is Batch(Zip(a1, b), Zip(a2, b)).
func Zip[A, B any](a Outcome[A], b Outcome[B]) Outcome[Pair[A, B]] {
	switch {
	case a.kind == KindBatch:
		items := make([]Outcome[Pair[A, B]], len(a.items))
		for i, it := range a.items {
			items[i] = Zip(it, b)
		}
		return batch(items)
	case b.kind == KindBatch:
		items := make([]Outcome[Pair[A, B]], len(b.items))
		for i, it := range b.items {
			items[i] = Zip(a, it)
		}
		return batch(items)
	case a.kind != KindOk:
		return recast[A, Pair[A, B]](a)
	case b.kind != KindOk:
		return recast[B, Pair[A, B]](b)
	}
	return Ok(Pair[A, B]{First: a.value, Second: b.value})
}

// flatten appends the leaves of outs (batches opened, recursively) to dst.
func flatten[T any](dst []Outcome[T], outs []Outcome[T]) []Outcome[T] {
	for _, o := range outs {
		if o.kind == KindBatch {
			dst = flatten(dst, o.items)
		} else {
			dst = append(dst, o)
		}
	}
	return dst
}

// JoinAll succeeds if every outcome does: Ok with the values in order.
// Batches count as their items. Otherwise it returns the first outcome, in
// order, that is not Ok. JoinAll of nothing is Ok with an empty slice.
func JoinAll[T any](outs ...Outcome[T]) Outcome[[]T] {
	leaves := flatten(nil, outs)
	values := make([]T, 0, len(leaves))
	for _, o := range leaves {
		if o.kind != KindOk {
			return recast[T, []T](o)
		}
		values = append(values, o.value)
	}
	return Ok(values)
}

// ErrNoOutcomes is the error of JoinAny of nothing.
var ErrNoOutcomes = errors.New("outcome: JoinAny of no outcomes")

// JoinAny succeeds if any outcome does: it returns the first Ok, in order.
// Batches count as their items. If none is Ok it returns the first that may
// still become Ok (Pending or Retry), else the first outcome; JoinAny of
// nothing is Err(ErrNoOutcomes).
func JoinAny[T any](outs ...Outcome[T]) Outcome[T] {
	leaves := flatten(nil, outs)
	if len(leaves) == 0 {
		return Err[T](ErrNoOutcomes)
	}
	hopeful := -1
	for i, o := range leaves {
		switch o.kind {
		case KindOk:
			return o
		case KindPending, KindRetry:
			if hopeful < 0 {
				hopeful = i
			}
		}
	}
	if hopeful >= 0 {
		return leaves[hopeful]
	}
	return leaves[0]
}
