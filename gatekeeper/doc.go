// Package gatekeeper is batpak's policy layer: pure gates evaluated before a
// commit, receipts that prove the gates passed, and an audited bypass.
//
// The flow is propose → evaluate → commit:
//
//	var withdrawGates = gatekeeper.MustGateSet(
//		gatekeeper.Gate[Withdrawal]{
//			Name:        "positive",
//			Description: "amounts are positive",
//			Check: func(w Withdrawal) *gatekeeper.Denial {
//				if w.Amount <= 0 {
//					return gatekeeper.Deny("not_positive", "amount must be positive").With("amount", w.Amount)
//				}
//				return nil
//			},
//		},
//		// … more gates, evaluated in order
//	)
//
//	p := gatekeeper.Propose(coord, kindWithdrawn, w)
//	r, err := gatekeeper.Evaluate(withdrawGates, w, p)
//	if err != nil {
//		var d *gatekeeper.Denial // errors.As(err, &d): d.Gate, d.Code, d.Message, d.Context
//		return err
//	}
//	c, err := gatekeeper.Commit(ctx, store, r) // c.ID, c.Sequence, c.Hash, c.Audit
//
// Gates are not an actor: they are plain functions run on the caller's
// goroutine before anything is sent to the store. A gate set is immutable
// and safe for concurrent use. Evaluate stops at the first denial;
// EvaluateAll runs every gate and returns every denial, for showing a user
// all that is wrong at once and for metrics. Denials are returned to the
// caller, never written to the log by this package.
//
// # Receipts
//
// A [Receipt] is the only thing [Commit] accepts, and only [Evaluate] and
// [Bypass] make one: its fields are unexported, the zero Receipt is refused,
// and a receipt commits at most once even when goroutines race to commit
// copies of it. A failed commit spends the receipt too; evaluate again to
// retry (see Commit for why).
//
// A receipt always describes something the store can append. Before
// issuing one, Evaluate and Bypass check the proposal with the store's own
// rules (event.CheckAppend: coordinate, kind — every kind of the reserved
// categories 0x0 and 0xD is refused — and idempotency key length) and
// encode its envelope with the proposal's Limits, refusing a payload above
// their bound. The bound is the store's option, so set it from the store
// the receipt is for (p.Limits = store.Limits()); the zero Limits are the
// embedded store's defaults. Commit checks the committing store's own
// limits again before it spends the receipt (see [Limiter]), so a receipt
// made for other limits is refused, not spent.
//
// # Bypass and the audit trail
//
// [Bypass] makes a receipt without evaluating the gates, given a reason, a
// justification and who authorised it. Every commit writes an [Envelope]
// as the event payload:
//
//	{"gatekeeper": 1, "payload": <T>, "gates": [...]}                      // gates passed
//	{"gatekeeper": 1, "payload": <T>, "bypass": {"reason": …, "justification": …,
//	                                             "by": …, "gates_skipped": [...]}}
//
// so a bypass is visible on the log and its reason can be read back with
// [ReadAudit] (audit only, any payload type) or [Decode] (payload and audit).
// Projections over gated kinds decode events with Decode.
//
// # The store
//
// Commit needs only [Appender], the AppendWithOptions method of
// *batpak.Store (and uses [Limiter], its Limits method, when the store has
// one); this package does not import the store.
package gatekeeper
