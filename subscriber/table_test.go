package subscriber

import (
	"testing"

	"github.com/batpak-go/batpak/event"
)

// The fan-out core, without goroutines.

func bareLossy(r event.Region, capacity int, last uint64) *Lossy {
	return newLossy(nil, r, capacity, last)
}

func TestTableDeliversMatchingNotesAndCountsDropsExactly(t *testing.T) {
	f := newFakeLog()
	var tb table
	all := bareLossy(event.AllEvents(), 1000, 0)
	room := bareLossy(event.ForScope("room:1"), 1000, 0)
	small := bareLossy(event.AllEvents(), 3, 0)
	for _, l := range []*Lossy{all, room, small} {
		tb.add(l)
	}
	tb.deliver(pub(f.commit(5, "p:1", "room:1", kindA)))
	tb.deliver(pub(f.commit(5, "p:2", "room:2", kindA)))

	checkRun(t, "all", globals(drain(all)), 1, 10)
	checkRun(t, "room:1", globals(drain(room)), 1, 5)
	checkRun(t, "small", globals(drain(small)), 1, 3)
	if all.Dropped() != 0 || room.Dropped() != 0 || small.Dropped() != 7 {
		t.Fatalf("dropped all=%d room=%d small=%d, want 0 0 7", all.Dropped(), room.Dropped(), small.Dropped())
	}
	if tb.last != 10 {
		t.Fatalf("frontier %d, want 10", tb.last)
	}
}

func TestTableRedeliveryAfterACrashIsIgnored(t *testing.T) {
	// A crash in the middle of a delivery leaves some subscriptions offered
	// a publication and others not; delivering it again must complete the
	// second group without duplicating anything for the first.
	f := newFakeLog()
	var tb table
	a, b := bareLossy(event.AllEvents(), 100, 0), bareLossy(event.AllEvents(), 100, 0)
	tb.add(a)
	tb.add(b)
	notes := f.commit(4, "p:1", "room:1", kindA)
	a.offer(pub(notes), nil) // the crash struck after offering to a only
	a.last = notes[3].Global
	tb.deliver(pub(notes))
	tb.deliver(pub(notes[:2])) // and a stale copy later on
	checkRun(t, "a", globals(drain(a)), 1, 4)
	checkRun(t, "b", globals(drain(b)), 1, 4)
}

func TestTableNewSubscriptionStartsAtTheFrontier(t *testing.T) {
	f := newFakeLog()
	var tb table
	tb.deliver(pub(f.commit(3, "p:1", "room:1", kindA)))
	late := bareLossy(event.AllEvents(), 10, 1)
	tb.add(late)
	tb.deliver(pub(f.commit(2, "p:1", "room:1", kindA)))
	checkRun(t, "late", globals(drain(late)), 4, 2)
}

func TestTableBackfillReadsMissedEventsFromTheIndex(t *testing.T) {
	f := newFakeLog()
	var tb table
	all := bareLossy(event.AllEvents(), 100, 0)
	kindB1 := bareLossy(event.AllEvents().WithKind(kindB), 100, 0)
	tb.add(all)
	tb.add(kindB1)
	f.commit(3, "p:1", "room:1", kindA) // notifications lost
	f.commit(2, "p:2", "room:1", kindB) // notifications lost
	tb.backfill(f.log(), 5)
	tb.deliver(pub(f.commit(1, "p:1", "room:1", kindA)))

	got := drain(all)
	checkRun(t, "all", globals(got), 1, 6)
	if got[3].Coordinate.Entity() != "p:2" || got[3].ID.IsZero() || got[3].Sequence != 0 {
		t.Fatalf("backfilled notification incomplete: %+v", got[3])
	}
	checkRun(t, "kind B", globals(drain(kindB1)), 4, 2)
}

func TestTableBackfillLoadsOnlyWantedEvents(t *testing.T) {
	f := newFakeLog()
	var tb table
	l := bareLossy(event.ForEntity("p:9"), 100, 0)
	tb.add(l)
	f.commit(50, "p:1", "room:1", kindA)
	f.commit(1, "p:9", "room:1", kindA)
	tb.backfill(f.log(), 51)
	if n := f.loads.Load(); n != 1 {
		t.Fatalf("loaded %d events, want 1", n)
	}
	checkRun(t, "p:9", globals(drain(l)), 51, 1)
}

func TestTableBackfillWithoutSubscriptionsReadsNothing(t *testing.T) {
	f := newFakeLog()
	var tb table
	f.commit(10, "p:1", "room:1", kindA)
	tb.backfill(f.log(), 10)
	if tb.last != 10 || f.loads.Load() != 0 {
		t.Fatalf("frontier %d, loads %d; want 10, 0", tb.last, f.loads.Load())
	}
}

func TestTableBackfillThatCannotReadCountsDrops(t *testing.T) {
	f := newFakeLog()
	var tb table
	all := bareLossy(event.AllEvents(), 100, 0)
	room2 := bareLossy(event.ForScope("room:2"), 100, 0)
	tb.add(all)
	tb.add(room2)
	f.commit(4, "p:1", "room:1", kindA)
	f.commit(3, "p:1", "room:2", kindA)
	f.fail.Store(true)
	tb.backfill(f.log(), 7)
	if len(drain(all)) != 0 || all.Dropped() != 7 || room2.Dropped() != 3 {
		t.Fatalf("dropped all=%d room:2=%d, want 7 3", all.Dropped(), room2.Dropped())
	}
	f.fail.Store(false)
	tb.deliver(pub(f.commit(1, "p:1", "room:2", kindA)))
	checkRun(t, "after", globals(drain(room2)), 8, 1)
}

func TestTableSkipsGlobalSequencesNeverWritten(t *testing.T) {
	f := newFakeLog()
	var tb table
	l := bareLossy(event.AllEvents(), 100, 0)
	tb.add(l)
	tb.deliver(pub(f.commit(2, "p:1", "room:1", kindA)))
	f.skip(5)
	tb.backfill(f.log(), 7)
	tb.deliver(pub(f.commit(2, "p:1", "room:1", kindA)))
	gs := globals(drain(l))
	if want := []uint64{1, 2, 8, 9}; len(gs) != 4 || gs[2] != want[2] || gs[3] != want[3] {
		t.Fatalf("globals %v, want %v", gs, want)
	}
}

func TestTableClosedSubscriptionIsSkipped(t *testing.T) {
	f := newFakeLog()
	var tb table
	l := bareLossy(event.AllEvents(), 100, 0)
	tb.add(l)
	l.closed.Store(true)
	tb.deliver(pub(f.commit(3, "p:1", "room:1", kindA)))
	if len(drain(l)) != 0 || l.Dropped() != 0 {
		t.Fatal("a closed subscription was offered notifications")
	}
	tb.remove(l)
	if len(tb.subs) != 0 {
		t.Fatal("remove left the subscription in the table")
	}
}
