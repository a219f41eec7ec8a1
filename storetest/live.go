package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/projector"
)

// The live-side tests: cursors, subscriptions, projections, Close.

func (s *suite) cursor(t *testing.T) {
	st := s.open(t)
	hall := event.MustCoordinate("player:alice", "room:hall")
	crypt := event.MustCoordinate("player:bob", "room:crypt")
	var want []uint64
	for i := range 5 {
		r := mustAppend(t, st, hall, KindMoved, Moved{N: i})
		want = append(want, r.Global)
		mustAppend(t, st, crypt, KindMoved, Moved{N: i}) // outside the region
	}
	cur, err := st.Cursor(event.ForScope("room:hall"), 0)
	if err != nil {
		t.Fatalf("Cursor: %v", err)
	}
	defer cur.Close()
	ctx := s.waitCtx(t)
	var got []uint64
	for range 3 {
		ev, err := cur.Next(ctx)
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		got = append(got, ev.Global)
	}
	batch, err := cur.NextBatch(ctx, 10)
	if err != nil {
		t.Fatalf("NextBatch: %v", err)
	}
	got = append(got, globals(batch)...)
	// Live events appended by another goroutine while the cursor waits.
	errc := make(chan error, 1)
	go func() {
		for i := range 4 {
			r, err := st.Append(bg, hall, KindSpoke, Moved{N: 10 + i})
			if err != nil {
				errc <- err
				return
			}
			want = append(want, r.Global) // read only after errc delivers
		}
		errc <- nil
	}()
	for len(got) < 9 {
		evs, err := cur.NextBatch(ctx, 0)
		if err != nil {
			t.Fatalf("NextBatch (live): %v", err)
		}
		got = append(got, globals(evs)...)
	}
	if err := <-errc; err != nil {
		t.Fatalf("append: %v", err)
	}
	if !equalU64(got, want) {
		t.Fatalf("cursor delivered %v, want %v", got, want)
	}
	if cur.Position() != want[len(want)-1] {
		t.Fatalf("Position %d, want %d", cur.Position(), want[len(want)-1])
	}
	// A cursor opened at a position starts after it.
	c2, err := st.Cursor(event.ForScope("room:hall"), want[6])
	if err != nil {
		t.Fatalf("Cursor(from): %v", err)
	}
	defer c2.Close()
	ev, err := c2.Next(ctx)
	if err != nil || ev.Global != want[7] {
		t.Fatalf("cursor from %d: %v, %v; want %d", want[6], err, ev, want[7])
	}
	// All goes on from the position and ends with the error that stops
	// it: here the cursor's own Close.
	var rest []uint64
	for ev, err := range c2.All(ctx) {
		if err != nil {
			if !errors.Is(err, batpak.ErrSubscriptionClosed) {
				t.Fatalf("All ended with %v, want ErrSubscriptionClosed", err)
			}
			break
		}
		if rest = append(rest, ev.Global); len(rest) == 1 {
			c2.Close() // the next read ends the loop
		}
	}
	if !equalU64(rest, want[8:9]) {
		t.Fatalf("All from %d yielded %v, want %v", want[7], rest, want[8:9])
	}
}

func (s *suite) durableCursor(t *testing.T) {
	st := s.open(t)
	c := event.MustCoordinate("order:1", "shop")
	var want []uint64
	for i := range 5 {
		want = append(want, mustAppend(t, st, c, KindMoved, Moved{N: i}).Global)
	}
	region := event.ForScope("shop")
	dc, err := st.DurableCursor("mailer", region)
	if err != nil {
		t.Fatalf("DurableCursor: %v", err)
	}
	ctx := s.waitCtx(t)
	for i := range 3 {
		ev, err := dc.Next(ctx)
		if err != nil || ev.Global != want[i] {
			t.Fatalf("Next %d: %v %v, want %d", i, err, ev, want[i])
		}
	}
	if dc.Name() != "mailer" {
		t.Fatalf("Name %q", dc.Name())
	}
	if err := dc.Ack(ctx, want[1]); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	if dc.Acked() != want[1] {
		t.Fatalf("Acked %d, want %d", dc.Acked(), want[1])
	}
	if err := dc.Close(); err != nil {
		t.Fatalf("Close cursor: %v", err)
	}
	if s.cfg.reopen != nil {
		st = s.cfg.reopen(t, st)
	}
	dc, err = st.DurableCursor("mailer", region)
	if err != nil {
		t.Fatalf("reopen cursor: %v", err)
	}
	defer dc.Close()
	if dc.Acked() != want[1] {
		t.Fatalf("reopened cursor acked %d, want %d", dc.Acked(), want[1])
	}
	// At-least-once: the event delivered but not acknowledged comes again.
	for i := 2; i < 5; i++ {
		ev, err := dc.Next(ctx)
		if err != nil || ev.Global != want[i] {
			t.Fatalf("after reopen, Next: %v %v, want %d", err, ev, want[i])
		}
	}
	if err := dc.Ack(ctx, want[4]); err != nil || dc.Acked() != want[4] {
		t.Fatalf("Ack(last): %v, acked %d", err, dc.Acked())
	}
}

func (s *suite) subscription(t *testing.T) {
	st := s.open(t)
	sub, err := st.Subscribe(event.ForScope("room:lobby"), 64)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	defer sub.Close()
	mustAppend(t, st, event.MustCoordinate("player:x", "room:other"), KindMoved, Moved{}) // not in the region
	var rs []batpak.Receipt
	for i := range 3 {
		rs = append(rs, mustAppend(t, st, event.MustCoordinate(fmt.Sprintf("player:%d", i), "room:lobby"), KindSpoke, Moved{N: i}))
	}
	ctx := s.waitCtx(t)
	for _, r := range rs {
		n, err := sub.Recv(ctx)
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		if n.ID != r.ID || n.Global != r.Global || n.Sequence != r.Sequence || n.Coordinate != r.Coordinate ||
			n.Kind != r.Kind || n.Correlation != r.Correlation {
			t.Fatalf("notification %+v, want receipt %+v", n, r)
		}
	}
	if sub.Dropped() != 0 {
		t.Fatalf("Dropped %d with room in the buffer", sub.Dropped())
	}
	// The same notifications through C, whose channel Close closes.
	ranged, err := st.Subscribe(event.ForScope("room:lobby"), 64)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	r := mustAppend(t, st, event.MustCoordinate("player:9", "room:lobby"), KindSpoke, Moved{N: 9})
	select {
	case n := <-ranged.C():
		if n.ID != r.ID || n.Global != r.Global {
			t.Fatalf("notification from C %+v, want receipt %+v", n, r)
		}
	case <-ctx.Done():
		t.Fatalf("no notification from C: %v", ctx.Err())
	}
	ranged.Close()
	for n := range ranged.C() {
		t.Fatalf("notification %+v after Close", n)
	}
}

// counter is the suite's projection: a count and a sum of Moved.N.
type counter struct {
	Count, Sum int
}

func (*counter) Projection() projector.Spec {
	return projector.Spec{Name: "storetest-counter", Version: 1, Kinds: []event.EventKind{KindMoved}, Incremental: true}
}

func (c *counter) Apply(ev *event.StoredEvent) error {
	m, err := batpak.Decode[Moved](ev)
	c.Count++
	c.Sum += m.N
	return err
}

func (s *suite) projection(t *testing.T) {
	st := s.open(t)
	c := event.MustCoordinate("counter:1", "x")
	var last batpak.Receipt
	for i := 1; i <= 4; i++ {
		last = mustAppend(t, st, c, KindMoved, Moved{N: i})
		mustAppend(t, st, c, KindSpoke, Moved{N: 100}) // not a kind the projection lists
	}
	log := st.ProjectionLog()
	if h := log.Head(); h < last.Global {
		t.Fatalf("Head %d, below the last append's %d", h, last.Global)
	}
	cache := projector.NewMemoryCache(16)
	res, err := projector.Project[counter](bg, log, projector.Entity("counter:1"), projector.Consistent, projector.Options{Cache: cache})
	if err != nil {
		t.Fatalf("Project: %v", err)
	}
	if res.State != (counter{Count: 4, Sum: 10}) {
		t.Fatalf("state %+v, want 4 events summing to 10", res.State)
	}
	mustAppend(t, st, c, KindMoved, Moved{N: 5})
	res, err = projector.Project[counter](bg, log, projector.Entity("counter:1"), projector.Consistent, projector.Options{Cache: cache})
	if err != nil || res.State != (counter{Count: 5, Sum: 15}) || !res.Cached || res.Applied != 1 {
		t.Fatalf("cached projection: %v %+v, want 5/15 extended by one event", err, res)
	}
	region, err := projector.Project[counter](bg, log, projector.Over(event.AllEvents()), projector.Consistent, projector.Options{})
	if err != nil || region.State.Count != 5 {
		t.Fatalf("region projection: %v %+v", err, region.State)
	}
}

func (s *suite) closed(t *testing.T) {
	st := s.open(t)
	c := event.MustCoordinate("a:1", "s")
	r := mustAppend(t, st, c, KindMoved, Moved{})
	if err := st.Sync(bg); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := st.Append(bg, c, KindMoved, Moved{}); !isClosed(err) {
		t.Fatalf("Append after Close: %v, want ErrClosed", err)
	}
	if _, err := st.AppendBatch(bg, []batpak.BatchItem{{Coord: c, Kind: KindMoved, Payload: Moved{}}}); !isClosed(err) {
		t.Fatalf("AppendBatch after Close: %v, want ErrClosed", err)
	}
	if _, err := st.Get(bg, r.ID); !isClosed(err) {
		t.Fatalf("Get after Close: %v, want ErrClosed", err)
	}
	if _, err := st.Cursor(event.AllEvents(), 0); !isClosed(err) {
		t.Fatalf("Cursor after Close: %v, want ErrClosed", err)
	}
	if _, err := st.Subscribe(event.AllEvents(), 1); !isClosed(err) {
		t.Fatalf("Subscribe after Close: %v, want ErrClosed", err)
	}
	var qerr error
	for _, err := range st.Query(bg, event.AllEvents()) {
		qerr = err
		break
	}
	if !isClosed(qerr) {
		t.Fatalf("Query after Close: %v, want ErrClosed", qerr)
	}
}
