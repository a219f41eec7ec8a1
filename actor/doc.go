// Package actor is batpak's small actor kit: bounded typed mailboxes,
// request/reply with a reply channel buffered to one, and a group that
// starts every goroutine through one tracked, labelled path.
//
// Each blocking leg selects on the caller's context and the actor's done
// channel, so a caller gets ctx.Err() or ErrStopped, never a hang:
//
//	mb := actor.NewMailbox[*req](1024, done)
//	if err := mb.Send(ctx, r); err != nil { return err }
//	res, err := actor.Await(ctx, r.reply, done)
package actor
