// Package storetest is the behavioural test suite of the batpak facade
// (batpak.EventStore): every backend runs it, so the embedded store and the
// NATS JetStream backend are held to the same contract.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) batpak.EventStore {
//			s, err := batpak.Open(t.TempDir())
//			require.NoError(t, err)
//			t.Cleanup(func() { _ = s.Close() })
//			return s
//		}, storetest.WithReopen(reopen))
//	}
//
// Each subtest opens a fresh, empty store with the factory. The suite covers
// every capability of the facade: every read path (ByCorrelation, and
// WalkAncestors along the hash chain, included), per-entity sequences,
// expected-sequence conflicts, idempotent retries (and keys reused for a
// different event or batch), all-or-nothing batches, reactions and
// reaction batches, pipelined appends (Submit, SubmitBatch and their
// tickets), guaranteed and durable cursors (whose capped reads never split
// an atomic batch, and whose All catches up from history to live),
// WaitVisible, lossy subscriptions (Recv and C), react loops (atomic
// reaction batches, restarts that retry the event, durable loops resuming
// after a restart, Close), projections through package projector and
// through the facade (Project, ProjectRegion, WatchProjection,
// NewProjector's live projections and WaitApplied), backups (Snapshot,
// VerifySnapshot, OpenReadOnly on the copy), typed kinds (package kinds:
// typed appends and reads on every path, payload versions upcast, kind
// names learned, refused when they conflict, kept across a reopen), errors
// after Close, positions and limits at the ends of their ranges, and the
// refusal of reserved kinds and of payloads above Limits.
// It imports no backend: a backend's own module runs it. Its checks are
// testify's require (a failure that makes the rest meaningless ends the
// subtest) and assert (the subtest goes on, reporting every difference).
package storetest
