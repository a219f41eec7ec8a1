// Package writer holds batpak's write path: the writer actor, which
// serialises appends, and the fsync actor, which group-commits them.
//
// # A pure core in thin shells
//
// core (core.go, batch.go, keys.go) is a plain single-threaded state
// machine with no goroutines, channels or files. Given a drain of requests
// it checks each (idempotency keys, expected sequences, batch causes),
// assigns ids, positions, sequences and chain hashes, encodes every frame
// into one buffer, and builds the flush: index entries, notifications, and
// the requests waiting for them. It also makes the writer's decisions —
// whether a record fits the active segment (else the shell rotates), which
// global sequences must be durably reserved before the frames are written,
// what a restart forgets. Its tests (core_test.go, drain.golden) run
// without goroutines or files.
//
// Writer.Serve (writer.go) is the shell: a select over the mailbox and its
// context that feeds the core, writes its frames with one call, rotates,
// and hands the flush on. Fsync.Serve (fsync.go) is the other: a select
// over its queues and a ticker that syncs each file of the flushes it
// collected once, publishes them, and answers their callers; its decisions
// (adaptive group commit and the like) are plain functions in group.go.
//
// # Who owns what
//
//	goroutine     owns                                                reads of another's
//	writer        core (log end: tails, keys, global sequence and     link.released (who publishes),
//	              its reservation; the encode buffer; the requests    link.synced (sync kicks)
//	              of the drain), the active segment and its file
//	              writes, link.handed/onWrite/prefaultTo/active
//	fsync actor   the flushes it was handed, fsyncs, the sync note    link.onWrite, link.active,
//	              (under activeSegment.noteMu), link.released/        activeSegment.written
//	              synced/syncing
//	callers       a request until it is sent, and after its reply     -
//
// A request has one owner at a time: the caller, then the writer (the
// core's drain, then its flush), then whichever actor publishes the flush;
// that one answers it, exactly once, on a reply channel buffered to one.
// The two actors share no counter: each field of link has one goroutine
// that writes it (the table in link.go), and index publication belongs to
// the fsync actor while it holds unreleased flushes and to the writer
// otherwise, so on-write appends with nothing durable in flight are
// published by the writer at once, with no hop to another goroutine. The
// sticky storage error is the one cell both write: set once, by whichever
// fails first. The instruments (Config.Metrics) are atomic counters any
// goroutine adds to without a lock: the writer counts its drains and the
// fsyncs of rotation and shutdown, the fsync actor its own fsyncs and the
// events each made durable.
//
// Every send between the actors selects on done (the actors stopped for
// good: an escalated fsync actor never leaves the writer blocked; it fails
// stop instead), and every queue has a named bound and policy, listed in
// docs/ARCHITECTURE.md, "Queues".
//
// # Example
//
// The store wires the actors under its supervisor; a caller sends a
// request and waits for its reply:
//
//	w, fsync, err := writer.New(cfg, start, done, mailboxLen)
//	sup.Add("fsync", fsync, policy) // before the writer: stopped after it
//	sup.Add("writer", w, policy)
//
//	r := writer.NewAppend(writer.Item{Coord: c, Kind: k, Payload: b}, event.Durable)
//	if err := w.Mailbox().Send(ctx, r); err != nil { ... }
//	res, err := actor.Await(ctx, r.Reply(), done)
//	if err == nil && res.Err == nil {
//		receipt := res.Receipts[0] // copy out, then
//	}
//	r.Release() // only once the reply has arrived
package writer
