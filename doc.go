// Package batpak is an embedded, sync-first event store: an append-only
// log of events addressed by coordinate (entity, scope), with causal
// metadata, per-entity hash chains, optimistic concurrency, idempotency
// keys and atomic batches, run in-process by a few goroutine actors under
// a supervisor behind plain blocking calls.
//
//	store, err := batpak.Open(dir) // locks dir, recovers the log
//	if err != nil { ... }
//	defer store.Close()            // drains, syncs, joins every goroutine
//
//	alice := event.MustCoordinate("player:alice", "room:dungeon")
//	moved := event.MustCustom(0x1, 0x001)
//	r, err := store.Append(ctx, alice, moved, Moved{To: "crypt"})
//	ev, err := store.Get(ctx, r.ID)
//	for ev, err := range store.Stream(ctx, "player:alice") { ... }
//
// # Typed kinds and schema evolution
//
// DefineKind binds a Go type to a kind once — number, name, payload
// version and the upcasters from older versions (package kinds) — and
// AppendTyped, TypedItem and the kind's reads (Query, Get, Events, Cursor)
// go by type. Every event records the version its payload was written
// with; DecodeAs reads an event from any path as the current type,
// upcasting older shapes, so a projection that knows only the newest shape
// reads them all. The store keeps kind names (KindNames) for its tools.
//
//	var Moved = batpak.DefineKind[MovedV2]("player.moved", 0x1, 0x001,
//		kinds.Version(2), kinds.Upcast(1, movedV1toV2))
//	r, err := batpak.AppendTyped(ctx, store, Moved, alice, MovedV2{To: "crypt"})
//	m, err := batpak.DecodeAs[MovedV2](ev)
//
// # Erasure and signed receipts
//
// WithEncryption seals every payload with a key of its entity's own,
// kept wrapped by a master key in the store's keyset (package keyring);
// Shred destroys an entity's keys, and its payloads then read as
// ErrShredded while headers, links and chains stay. WithReceiptSigner
// signs every receipt with Ed25519, and VerifyReceipt (package receipt)
// checks one offline with the public key alone.
//
//	store, err := batpak.Open(dir, batpak.WithEncryption(keyring.MasterKey(master)),
//		batpak.WithReceiptSigner(signingKey))
//	err = store.Shred(ctx, "customer:alice")
//	err = batpak.VerifyReceipt(publicKey, r)
//
// # Durability
//
// In the default Durable mode an append returns only after the fsync that
// covers it, and readers see an event only once it is durable. Concurrent
// appends share fsyncs (group commit). OnWrite mode acknowledges after the
// write and syncs every N events or T interval: a machine crash can lose
// the acknowledged events of that window. Either can be chosen per call.
//
// # Errors
//
// Errors are the documented sentinels (ErrClosed, ErrNotFound,
// ErrSequenceMismatch, ErrFailStop, …), matched with errors.Is, and typed
// errors (*SequenceMismatchError, *CorruptionError, *BatchItemError,
// *CoordinateError, *ForeignDirError) for errors.As. A failed write or fsync stops all writes
// for good (ErrFailStop): after a failed fsync no retry can be trusted.
//
// # Backends
//
// EventStore is the facade both backends give, *Store and the NATS
// JetStream backend (module github.com/batpak-go/batpak/jetstream); its
// Cursor, DurableCursor and Subscription are this package's interfaces,
// and Project, the watches and NewProjector take any EventStore. It holds
// every capability that does not work on the store's files: pipelined
// Submits, react loops, causal walks, WaitVisible and Snapshot included.
// Moving a store into a cluster (the command batpak-jetstream copy) is
// described in docs/SCALE-OUT.md.
//
// The packages below the facade each own one role: event (value types,
// and the typed errors and reports), segment (the on-disk format), index,
// reader (the directory, recovery and reads), writer (the writer and fsync
// actors), subscriber (subscriptions, cursors), react (react loops over
// any backend), projector (projections), kinds (typed kinds, upcasting and
// kind names), keyring (data keys, sealing and shredding), receipt (signed
// receipts), compact and snapshot (maintenance), actor and supervisor
// (the runtime), vfs (the file-system seam with crash and fault
// simulation), gatekeeper, typestate and outcome (the policy layer).
package batpak
