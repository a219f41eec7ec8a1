package subscriber

import (
	"cmp"
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
	// Each subscription is in one of two groups. Those whose region names
	// exact scopes and nothing but (ForScope, ForScopes: an area of
	// interest) are listed under each of their scopes, so a notification
	// finds them with one lookup of its scope, whatever the number of
	// subscriptions; the others are offered every publication and match
	// it note by note.
	byScope map[string][]*Lossy
	general []*Lossy // oldest first
	made    uint64   // subscriptions added so far: the next one's seq is made+1
	last    uint64   // every event with a lower or equal global sequence has been offered to every subscription
	// scratch, reused between calls
	runs    []span
	touched []*Lossy // scoped subscriptions with matches in the delivery at hand
	entries []index.Entry
	events  []*event.StoredEvent

	// offered, if set, is told of each subscription offered a delivery,
	// in order (tests check the order).
	offered func(*Lossy)
}

// backfillChunk bounds the events a backfill loads at once.
const backfillChunk = 256

func (t *table) add(l *Lossy) {
	// A new subscription sees what is processed from now on.
	l.last = max(l.last, t.last)
	t.made++
	l.seq = t.made
	t.subs = append(t.subs, l)
	names, prefixes, all := l.region.Scopes()
	if all || len(prefixes) > 0 {
		t.general = append(t.general, l)
		return
	}
	if t.byScope == nil {
		t.byScope = make(map[string][]*Lossy)
	}
	for _, n := range names {
		t.byScope[n] = append(t.byScope[n], l)
	}
}

func (t *table) remove(l *Lossy) {
	i := slices.Index(t.subs, l)
	if i < 0 {
		return
	}
	t.subs = slices.Delete(t.subs, i, i+1)
	if i := slices.Index(t.general, l); i >= 0 {
		t.general = slices.Delete(t.general, i, i+1)
		return
	}
	names, _, _ := l.region.Scopes()
	for _, n := range names {
		subs := t.byScope[n]
		if i := slices.Index(subs, l); i >= 0 {
			subs = slices.Delete(subs, i, i+1)
		}
		if len(subs) == 0 {
			delete(t.byScope, n)
		} else {
			t.byScope[n] = subs
		}
	}
}

// deliver offers a publication (notes in increasing global order) to every
// subscription: each matching note goes into the subscription's buffer if
// there is room and is counted as dropped if not. It never blocks, and its
// cost per subscription is one lock whatever the publication's size
// (subscriptions to every event; others match each note, and scoped ones
// are found by each note's scope).
func (t *table) deliver(b *noteBatch) {
	if len(b.notes) == 0 {
		return
	}
	top := b.notes[len(b.notes)-1].Global
	if top <= t.last {
		return // a backfill delivered it already
	}
	t.offer(b, top)
	t.last = top
}

// offer offers b to every subscription and moves each one's last to top
// once it has been offered b: a crash in the middle leaves those offered
// it with their last moved, and a redelivery offers it to the others only.
//
// Subscriptions are offered in the order they were made, the two groups
// merged: so a subscription never holds a notification of a delivery that
// an older one has not yet been offered. A reader that hands over from an
// old subscription to a newer one (spatial.Interest) relies on it: once
// the newer shows a notification, the older holds everything before it.
func (t *table) offer(b *noteBatch, top uint64) {
	if len(t.byScope) > 0 {
		t.matchScoped(b)
	}
	i, j := 0, 0
	for i < len(t.general) || j < len(t.touched) {
		if j == len(t.touched) || (i < len(t.general) && t.general[i].seq < t.touched[j].seq) {
			l := t.general[i]
			i++
			t.runs = l.offer(b, t.runs)
			l.last = max(l.last, top)
			t.tell(l)
			continue
		}
		l := t.touched[j]
		j++
		l.enqueue(l.pend, l.want)
		l.last = max(l.last, top)
		clear(l.pend)
		l.pend, l.want = l.pend[:0], 0
		t.tell(l)
	}
	clear(t.runs)
	clear(t.touched)
	t.touched = t.touched[:0]
	for _, l := range t.subs {
		l.last = max(l.last, top)
	}
}

func (t *table) tell(l *Lossy) {
	if t.offered != nil {
		t.offered(l)
	}
}

// matchScoped gathers the scoped subscriptions' runs of b: each note's
// scope finds the subscriptions that may want it. It leaves them in
// t.touched, oldest first, each with its runs in pend.
func (t *table) matchScoped(b *noteBatch) {
	for _, l := range t.touched { // left over by a crash in the middle
		clear(l.pend)
		l.pend, l.want = l.pend[:0], 0
	}
	t.touched = t.touched[:0]
	for j := range b.notes {
		n := &b.notes[j]
		for _, l := range t.byScope[n.Coordinate.Scope()] {
			if n.Global <= l.last || (!l.anyScope && !l.region.MatchesNotification(*n)) {
				continue
			}
			if len(l.pend) == 0 {
				t.touched = append(t.touched, l)
			}
			if k := len(l.pend) - 1; k >= 0 && l.pend[k].hi == j {
				l.pend[k].hi++
			} else {
				l.pend = append(l.pend, span{b, j, j + 1})
			}
			l.want++
		}
	}
	slices.SortFunc(t.touched, func(a, b *Lossy) int { return cmp.Compare(a.seq, b.seq) })
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
	n := partialNote(x, e)
	for _, subs := range [][]*Lossy{t.general, t.byScope[n.Coordinate.Scope()]} {
		for _, l := range subs {
			if e.Global > l.last && (l.all || l.region.MatchesNotification(n)) {
				return true
			}
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
	defer clear(t.events)
	b := &noteBatch{notes: make([]event.Notification, 0, len(t.entries))}
	top := t.entries[len(t.entries)-1].Global
	if err := log.Load(t.entries, t.events); err == nil {
		for _, ev := range t.events {
			b.notes = append(b.notes, ev.Notification())
		}
		t.offer(b, top)
		return
	}
	for _, e := range t.entries {
		b.notes = append(b.notes, partialNote(log.Index, e))
	}
	for _, l := range t.subs {
		l.drop(b.notes)
		l.last = max(l.last, top)
	}
}
