// Package react runs react loops: a Reactor called for each event of a
// region, in global order, whose derived events are appended as one atomic
// batch of reactions to the event (its correlation, caused by it). A loop
// runs as a supervisor service, so a reactor that fails or panics is
// restarted per its policy and tries the same event again: every event is
// reacted to at least once. A durable loop reads a named durable cursor
// and acknowledges what it has handled, so a loop started under the same
// name after a restart or a crash resumes there.
//
// The machinery is the same for every backend: a store gives its Loops a
// Backend — its cursors, its projection log's head and end-of-life test,
// and its AppendBatch — and its ReactLoop method starts loops on them.
// The store stops its Loops first when it closes, while it still takes
// their reactions. Users call the store's ReactLoop (batpak.EventStore):
//
//	loop, err := store.ReactLoop(ctx, event.ForScope("shop"), func(ctx context.Context, ev *event.StoredEvent) ([]event.BatchItem, error) {
//		return []event.BatchItem{{Coord: mailer, Kind: sent, Payload: ev.ID}}, nil
//	}, batpak.ReactDurable("mailer"))
//	defer loop.Stop(ctx)
package react
