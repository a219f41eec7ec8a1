// Package outcome is a small algebraic result type for work that can do
// more than succeed or fail. An [Outcome] is one of:
//
//   - Ok(value)
//   - Err(error, compensations…): failed; the compensations say what to undo
//   - Retry{After, Attempt, Max, Reason}: try again later
//   - Pending(wait condition, resume token): waiting for a timeout, an event…
//   - Cancelled(reason)
//   - Batch(outcomes…): one outcome per item of a batch
//
// Wait conditions and compensations are plain data: this package never
// sleeps, subscribes or undoes anything; the code holding the outcome does.
//
// The combinators [Map], [AndThen], [Zip], [JoinAll] and [JoinAny] are
// generic functions (Go methods cannot add type parameters). They transform
// Ok values only and pass every other variant through, and they distribute
// over batches. They obey the usual laws, which the tests check as
// properties:
//
//	Map(o, identity)            == o
//	Map(Map(o, f), g)           == Map(o, g∘f)
//	AndThen(Ok(x), f)           == f(x)
//	AndThen(o, Ok)              == o
//	AndThen(AndThen(o, f), g)   == AndThen(o, func(x) { return AndThen(f(x), g) })
//	Map(Batch(a, b), f)         == Batch(Map(a, f), Map(b, f))   // and likewise AndThen, Zip
//
// For example:
//
//	o := outcome.AndThen(reserveSeat(req), func(s Seat) outcome.Outcome[Ticket] {
//		if !paymentReady() {
//			return outcome.Pending[Ticket](outcome.OnEvent(paymentID), "ticket:"+s.ID)
//		}
//		return outcome.Ok(issue(s))
//	})
//	switch o.Kind() {
//	case outcome.KindOk: …
//	case outcome.KindPending:
//		cond, token, _ := o.Wait()
//		…
//	}
package outcome
