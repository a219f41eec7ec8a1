package subscriber

import (
	"slices"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
)

// table is the fan-out actor's pure core: the lossy subscriptions and the
// delivery of notifications to them, with drop counting. It is a plain
// single-threaded value with no goroutines, owned by the fan-out's run loop.
//
// Delivery is exactly-once per subscription even across a crash of the
// actor in the middle of a delivery: each subscription remembers the last
// global sequence it was offered (Lossy.last) and skips anything at or
// below it, and last, the table's frontier, only moves once every
// subscription has been offered a notification.
type table struct {
	subs []*Lossy
	last uint64 // every event with a lower or equal global sequence has been offered to every subscription
	// scratch, reused between calls
	runs    []span
	entries []index.Entry
	events  []*event.StoredEvent
}

// backfillChunk bounds the events a backfill loads at once.
const backfillChunk = 256

func (t *table) add(l *Lossy) {
	// A new subscription sees what is processed from now on.
	l.last = max(l.last, t.last)
	t.subs = append(t.subs, l)
}

func (t *table) remove(l *Lossy) {
	if i := slices.Index(t.subs, l); i >= 0 {
		t.subs = slices.Delete(t.subs, i, i+1)
	}
}

// deliver offers a publication (notes in increasing global order) to every
// subscription: each matching note goes into the subscription's buffer if
// there is room and is counted as dropped if not. It never blocks, and its
// cost per subscription is one lock whatever the publication's size
// (subscriptions to every event; others match each note).
func (t *table) deliver(b *noteBatch) {
	if len(b.notes) == 0 {
		return
	}
	top := b.notes[len(b.notes)-1].Global
	if top <= t.last {
		return // a backfill delivered it already
	}
	for _, l := range t.subs {
		t.runs = l.offer(b, t.runs)
		l.last = max(l.last, top)
	}
	clear(t.runs)
	t.last = top
}

// skipTo moves the frontier to global without delivering anything: there
// is nothing in between that any subscription wants.
func (t *table) skipTo(global uint64) {
	if global <= t.last {
		return
	}
	for _, l := range t.subs {
		l.last = max(l.last, global)
	}
	t.last = global
}

// backfill delivers the events in (t.last, upto] from the log instead of
// from notifications: the fan-out missed their notifications (its mailbox
// was full, or it crashed holding them). Events no subscription wants are
// not loaded. If loading fails, the events are counted as dropped by every
// subscription that wanted them, and the frontier moves on.
func (t *table) backfill(log Log, upto uint64) {
	if upto <= t.last {
		return
	}
	if len(t.subs) == 0 {
		t.skipTo(upto)
		return
	}
	t.entries = t.entries[:0]
	flush := func() {
		if len(t.entries) > 0 {
			t.deliverEntries(log)
			t.entries = t.entries[:0]
		}
	}
	for e := range log.Index.Query(event.AllEvents(), t.last) {
		if e.Global > upto {
			break
		}
		if t.wanted(log.Index, e) {
			t.entries = append(t.entries, e)
			if len(t.entries) == backfillChunk {
				flush()
			}
		}
	}
	flush()
	t.skipTo(upto)
}

// wanted reports whether some subscription wants the event e points at
// and has not been offered it.
func (t *table) wanted(x *index.Index, e index.Entry) bool {
	var n event.Notification
	named := false
	for _, l := range t.subs {
		if e.Global <= l.last {
			continue
		}
		if l.all {
			return true
		}
		if !named {
			n = partialNote(x, e)
			named = true
		}
		if l.region.MatchesNotification(n) {
			return true
		}
	}
	return false
}

// partialNote is what the index knows of an event: enough to match a region.
func partialNote(x *index.Index, e index.Entry) event.Notification {
	return event.Notification{
		Coordinate: x.Coordinate(e),
		Kind:       e.Kind, Global: e.Global, Sequence: e.Sequence,
	}
}

// deliverEntries loads t.entries and offers their notifications to the
// subscriptions that have not had them.
func (t *table) deliverEntries(log Log) {
	t.events = slices.Grow(t.events[:0], len(t.entries))[:len(t.entries)]
	b := &noteBatch{notes: make([]event.Notification, 0, len(t.entries))}
	if err := log.Load(t.entries, t.events); err != nil {
		for _, e := range t.entries {
			b.notes = append(b.notes, partialNote(log.Index, e))
		}
		for _, l := range t.subs {
			l.drop(b.notes)
		}
	} else {
		for _, ev := range t.events {
			b.notes = append(b.notes, ev.Notification())
		}
		for _, l := range t.subs {
			t.runs = l.offer(b, t.runs)
		}
		clear(t.runs)
	}
	top := t.entries[len(t.entries)-1].Global
	for _, l := range t.subs {
		l.last = max(l.last, top)
	}
	clear(t.events)
}
