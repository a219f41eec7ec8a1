// Package writer holds batpak's write path: the writer actor, which
// serialises appends, and the fsync actor, which group-commits them.
//
// The writer drains its mailbox, checks each command (idempotency keys,
// expected sequences), assigns ids, sequences and chain hashes, encodes
// every frame of the drain into one buffer and writes it with one call. It
// then hands the drain to the fsync actor, which coalesces whatever has
// queued, fsyncs once, publishes the index entries and only then releases
// the waiting callers. On-write appends skip the fsync wait when nothing
// durable is in flight.
//
// Both run under the store's supervisor; tests drive their cores directly
// (process on a drain) without goroutines.
package writer
