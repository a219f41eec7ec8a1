// Package subscriber delivers a store's events to the code that reacts to
// them, in three shapes, all fed by a fan-out actor that never slows the
// writer (react loops, over any backend's cursors, are package react's):
//
//   - Lossy (push, may drop): Notifications for the events of a region,
//     buffered up to a capacity. A full buffer drops and counts (Dropped);
//     a slow or abandoned subscriber never blocks the writer or the other
//     subscribers. Receive with Recv, or range over C. Filter, Map and
//     Take compose over it (Stream).
//   - Cursor (pull, never loses): reads the region's events from the index
//     and segments on the caller's goroutine, in global order, with no gaps
//     and no duplicates; Next blocks, woken by the fan-out actor (no
//     polling), until the next event is visible. Position is the place to
//     resume from; All is the catch-up subscription that replays history
//     and continues live with nothing missed or repeated at the boundary.
//     NextBatch never splits an atomic batch across calls.
//   - DurableCursor: a named Cursor whose acknowledged position (Ack) is
//     kept crash-safely in the store, so a reopened store resumes right
//     after it: at-least-once delivery.
//
// In Durable mode the write path hands events to the fan-out actor only
// after the fsync that covers them, and cursors read only what the index
// shows, which is published at the same point: nothing here ever sees an
// event a crash could erase.
//
// # The fan-out actor
//
// The actor is a plain table of subscriptions (tested without goroutines)
// inside a thin run loop (Fanout.Serve). Publish, the writer's hook, copies
// a publication once and offers it to the actor's bounded mailbox without
// blocking; when the mailbox is full the publication is left out and the
// actor reads those events back from the index instead, so cursors and
// subscriptions lose nothing to a busy actor. Subscriptions buffer
// references into the shared publications: the actor's work per
// publication is one lock per subscription to every event, and a buffer
// costs memory for what it holds, not for its capacity. After a crash the
// restarted actor delivers, from the index, whatever it had taken but not
// delivered, and nothing twice.
//
// Cursors that read the same stretch of the log — many catching up
// together, or all following the live tail — share the reading and
// decoding through a bounded cache, and each still gets events of its own.
//
// # Use
//
// Through the store (package batpak), whose Subscribe, Cursor and
// DurableCursor return a Lossy, a Cursor and a DurableCursor as the
// facade's own interfaces:
//
//	sub, _ := store.Subscribe(event.ForScope("room:lobby"), 1024)
//	defer sub.Close()
//	for {
//		n, err := sub.Recv(ctx)
//		if err != nil {
//			return err // ctx ended, or the store or the subscription closed
//		}
//		fmt.Println(n.Coordinate, n.Global) // read the event itself with store.Get(ctx, n.ID)
//	}
//
//	cur, _ := store.Cursor(event.ForScope("room:lobby"), saved)
//	defer cur.Close()
//	for ev, err := range cur.All(ctx) { // history, then live
//		if err != nil {
//			return err
//		}
//		handle(ev)
//		saved = cur.Position()
//	}
package subscriber
