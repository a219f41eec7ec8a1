package subscriber

import (
	"context"
	"slices"
	"sync/atomic"

	"github.com/batpak-go/batpak/event"
)

// Fanout is the fan-out actor: the thin run loop around the subscription
// table. The write path hands it the notifications of newly visible events
// (Publish, the writer's OnPublish hook); it offers them to the lossy
// subscriptions and wakes the cursors waiting for new events.
//
// Publish never blocks the writer or the fsync actor. Its mailbox is
// bounded; when it is full the notifications are not queued, and the actor
// reads those events back from the index instead (a "visible up to N"
// signal coalesces every missed publication). Cursors pull from the index
// and only need the wake-up, so for them nothing can be lost; lossy
// subscriptions lose only what does not fit their own buffers, and count it.
//
// The actor can be restarted after a crash: it keeps its table, and reads
// from the index whatever it had taken from its mailbox but not delivered.
type Fanout struct {
	hub   *Hub
	in    chan *noteBatch
	kickc chan struct{} // buffered 1: subscriptions changed, or a publication overflowed

	// published is the highest global sequence handed to Publish.
	published atomic.Uint64
	// overflows counts publications the mailbox had no room for.
	overflows atomic.Uint64

	t table // owned by Serve

	// beforeDeliver, if set, runs before each delivery (tests crash the actor with it).
	beforeDeliver func()
}

// noteBatch is one publication's notifications. It is immutable once
// made, and shared by every subscription that buffers part of it.
type noteBatch struct{ notes []event.Notification }

func newFanout(h *Hub) *Fanout {
	f := &Fanout{
		hub:   h,
		in:    make(chan *noteBatch, h.opts.Mailbox),
		kickc: make(chan struct{}, 1),
	}
	// Everything already in the log was published before this hub existed.
	last := h.opts.Log.Index.LastGlobal()
	f.t.last = last
	f.published.Store(last)
	h.frontier.Store(last)
	return f
}

// Publish hands over the notifications of newly visible events, in global
// order. It never blocks and never keeps notes (it copies them when a lossy
// subscription needs them), and may be called from the writer and from the
// fsync actor (one at a time, as they publish in turn).
func (f *Fanout) Publish(notes []event.Notification) {
	if len(notes) == 0 {
		return
	}
	top := notes[len(notes)-1].Global
	for {
		p := f.published.Load()
		if top <= p || f.published.CompareAndSwap(p, top) {
			break
		}
	}
	if f.hub.lossy.Load() == 0 {
		// Nobody to deliver to: only wake the cursors. A subscription
		// made meanwhile gets these events from the index, if they are
		// newer than it.
		f.kick()
		return
	}
	select {
	case f.in <- &noteBatch{notes: slices.Clone(notes)}:
	default:
		// Full: the actor reads these events from the index instead.
		f.overflows.Add(1)
		f.kick()
	}
}

// Overflows is the number of publications the actor's mailbox had no room
// for (the actor read their events back from the index), since it started.
func (f *Fanout) Overflows() uint64 { return f.overflows.Load() }

func (f *Fanout) kick() {
	select {
	case f.kickc <- struct{}{}:
	default:
	}
}

// Serve runs the fan-out actor until ctx is cancelled. Before returning it
// delivers everything published so far, so cursors and subscriptions see
// the store's last events before Close ends them.
func (f *Fanout) Serve(ctx context.Context) error {
	f.settle()
	for {
		select {
		case b := <-f.in:
			f.handle(b)
		case <-f.kickc:
			f.settle()
		case <-ctx.Done():
			f.settle()
			return nil
		}
		f.hub.advance(f.t.last)
	}
}

// settle takes subscription changes, delivers what is queued and reads
// back from the index whatever was published but never queued.
func (f *Fanout) settle() {
	f.hub.take(&f.t)
	for {
		select {
		case b := <-f.in:
			f.handle(b)
			continue
		default:
		}
		break
	}
	if f.beforeDeliver != nil {
		f.beforeDeliver()
	}
	f.t.backfill(f.hub.opts.Log, f.published.Load())
	f.hub.advance(f.t.last)
}

// handle delivers one publication.
func (f *Fanout) handle(b *noteBatch) {
	if f.hub.dirty.Load() {
		f.hub.take(&f.t)
	}
	if f.beforeDeliver != nil {
		f.beforeDeliver()
	}
	if first := b.notes[0].Global; first > f.t.last+1 {
		// Either notifications were missed (mailbox overflow, a crash) or
		// the writer skipped sequence numbers after a restart: the index
		// knows which.
		f.t.backfill(f.hub.opts.Log, first-1)
	}
	f.t.deliver(b)
}
