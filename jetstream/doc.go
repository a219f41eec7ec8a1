// Package jetstream is the batpak facade (batpak.EventStore) over a NATS
// JetStream stream, for when one machine is no longer enough: the stream
// can be replicated over a cluster of servers (Raft), and many clients can
// append to and read from it at once, with the guarantees of the embedded
// store — per-entity sequences and hash chains, optimistic concurrency,
// idempotency keys, atomic batches, guaranteed and durable cursors — and
// the whole facade: pipelined Submits, react loops, causal walks,
// WaitVisible, projections and Snapshot (a backup into a store directory
// of the embedded format). CopyFrom and Importer move an embedded store
// into a stream, keeping its ids (the batpak-jetstream command's copy).
//
//	nc, err := nats.Connect(urls)
//	store, err := jetstream.Open(ctx, nc, jetstream.Options{Replicas: 3})
//	defer store.Close()
//	var es batpak.EventStore = store // the same facade as *batpak.Store
//	r, err := es.Append(ctx, coord, kind, payload)
//
// # The mapping
//
// An event is one message on subject <prefix>.<scope>.<entity>.<kind>
// (coordinate parts outside [A-Za-z0-9_-] are escaped reversibly, ':' as
// "~3A"); its data is the event in the embedded store's record format, so
// ids, clocks, codecs and the Blake3 chain are the core's. The global
// sequence is the stream sequence. The per-entity sequence and chain hash
// are computed by the client from the entity's newest event, which it reads
// (and caches) with a direct get, or from the stream leader after a failed
// check on a replicated stream, and every append carries the server-side check
// Nats-Expected-Last-Subject-Sequence on <prefix>.*.<entity>.*, so no two
// clients can both extend the same newest event: the loser rebuilds on the
// winner, or fails with a *batpak.SequenceMismatchError if it named an
// expected sequence. The same check makes a retry of an attempt whose answer
// was lost fail if the attempt committed (the store then finds it after the
// event it was built on); message ids (Nats-Msg-Id: the idempotency key,
// else the event id; on a single server only for keyed appends and batch
// items) cover the rest; keys are also indexed in a key-value bucket so
// they are recognised after the server's duplicate window. Batches use JetStream's atomic batch publish,
// whose headers the stored messages keep: reads use them never to end
// inside a batch.
// Get looks ids up in the same bucket (keeping the chunks it reads) and
// checks the event it reads is the one asked for. Every event also names
// earlier events of its entity (the header Bp-Prev), which single-entity
// reads follow with pipelined direct gets instead of walking the stream,
// checking each event against what its link promised and falling back to
// the walk when one does not hold. Durable cursors are durable pull
// consumers; lossy subscriptions and cursor wake-ups use the stream's
// RePublish, which only ever carries stored messages. KVCache keeps
// projection states in a bucket.
//
// With Options.ReceiptSigner every receipt is signed on the client, as the
// embedded store's batpak.WithReceiptSigner signs, over a store id kept in
// the index bucket (ID); batpak.VerifyReceipt checks either backend's.
// Payload encryption and Shred (batpak.WithEncryption) are the embedded
// store's only: docs/SCALE-OUT.md says why.
//
// docs/SCALE-OUT.md in the repository describes when and how to move, the
// mapping, the differences from the embedded store and how to run a
// cluster; the natsembed module starts servers in-process.
package jetstream
