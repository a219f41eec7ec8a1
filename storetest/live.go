package storetest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	require.NoError(t, err, "Cursor")
	defer cur.Close()
	ctx := s.waitCtx(t)
	var got []uint64
	for range 3 {
		ev, err := cur.Next(ctx)
		require.NoError(t, err, "Next")
		got = append(got, ev.Global)
	}
	batch, err := cur.NextBatch(ctx, 10)
	require.NoError(t, err, "NextBatch")
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
		require.NoError(t, err, "NextBatch (live)")
		got = append(got, globals(evs)...)
	}
	require.NoError(t, <-errc, "the live appends")
	require.Equal(t, want, got, "what the cursor delivered")
	assert.Equal(t, want[len(want)-1], cur.Position(), "Position")
	// A cursor opened at a position starts after it.
	c2, err := st.Cursor(event.ForScope("room:hall"), want[6])
	require.NoError(t, err, "Cursor(from)")
	defer c2.Close()
	ev, err := c2.Next(ctx)
	require.NoError(t, err, "cursor from %d", want[6])
	assert.Equal(t, want[7], ev.Global, "cursor from %d", want[6])
	// All goes on from the position and ends with the error that stops
	// it: here the cursor's own Close.
	var rest []uint64
	for ev, err := range c2.All(ctx) {
		if err != nil {
			require.ErrorIs(t, err, batpak.ErrSubscriptionClosed, "how All ends")
			break
		}
		if rest = append(rest, ev.Global); len(rest) == 1 {
			c2.Close() // the next read ends the loop
		}
	}
	assert.Equal(t, want[8:9], rest, "All from %d", want[7])
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
	require.NoError(t, err, "DurableCursor")
	ctx := s.waitCtx(t)
	for i := range 3 {
		ev, err := dc.Next(ctx)
		require.NoError(t, err, "Next %d", i)
		require.Equal(t, want[i], ev.Global, "Next %d", i)
	}
	assert.Equal(t, "mailer", dc.Name())
	require.NoError(t, dc.Ack(ctx, want[1]), "Ack")
	assert.Equal(t, want[1], dc.Acked())
	require.NoError(t, dc.Close(), "Close the cursor")
	if s.cfg.reopen != nil {
		st = s.cfg.reopen(t, st)
	}
	dc, err = st.DurableCursor("mailer", region)
	require.NoError(t, err, "reopen the cursor")
	defer dc.Close()
	require.Equal(t, want[1], dc.Acked(), "the reopened cursor's acknowledged position")
	// At-least-once: the event delivered but not acknowledged comes again.
	for i := 2; i < 5; i++ {
		ev, err := dc.Next(ctx)
		require.NoError(t, err, "after the reopen, Next")
		require.Equal(t, want[i], ev.Global, "after the reopen, Next")
	}
	require.NoError(t, dc.Ack(ctx, want[4]), "Ack(last)")
	assert.Equal(t, want[4], dc.Acked())
}

func (s *suite) subscription(t *testing.T) {
	st := s.open(t)
	sub, err := st.Subscribe(event.ForScope("room:lobby"), 64)
	require.NoError(t, err, "Subscribe")
	defer sub.Close()
	mustAppend(t, st, event.MustCoordinate("player:x", "room:other"), KindMoved, Moved{}) // not in the region
	var rs []batpak.Receipt
	for i := range 3 {
		rs = append(rs, mustAppend(t, st, event.MustCoordinate(fmt.Sprintf("player:%d", i), "room:lobby"), KindSpoke, Moved{N: i}))
	}
	ctx := s.waitCtx(t)
	for _, r := range rs {
		n, err := sub.Recv(ctx)
		require.NoError(t, err, "Recv")
		assert.Equal(t, r.ID, n.ID, "notification %+v for receipt %+v", n, r)
		assert.Equal(t, r.Global, n.Global)
		assert.Equal(t, r.Sequence, n.Sequence)
		assert.Equal(t, r.Coordinate, n.Coordinate)
		assert.Equal(t, r.Kind, n.Kind)
		assert.Equal(t, r.Correlation, n.Correlation)
	}
	assert.Zero(t, sub.Dropped(), "drops with room in the buffer")
	// The same notifications through C, whose channel Close closes.
	ranged, err := st.Subscribe(event.ForScope("room:lobby"), 64)
	require.NoError(t, err, "Subscribe")
	r := mustAppend(t, st, event.MustCoordinate("player:9", "room:lobby"), KindSpoke, Moved{N: 9})
	select {
	case n := <-ranged.C():
		assert.Equal(t, r.ID, n.ID, "notification from C")
		assert.Equal(t, r.Global, n.Global, "notification from C")
	case <-ctx.Done():
		require.Fail(t, "no notification from C", "%v", ctx.Err())
	}
	ranged.Close()
	for n := range ranged.C() {
		require.Fail(t, "a notification after Close", "%+v", n)
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
	require.GreaterOrEqual(t, log.Head(), last.Global, "Head, against the last append")
	cache := projector.NewMemoryCache(16)
	res, err := projector.Project[counter](bg, log, projector.Entity("counter:1"), projector.Consistent, projector.Options{Cache: cache})
	require.NoError(t, err, "Project")
	assert.Equal(t, counter{Count: 4, Sum: 10}, res.State, "4 events summing to 10")
	mustAppend(t, st, c, KindMoved, Moved{N: 5})
	res, err = projector.Project[counter](bg, log, projector.Entity("counter:1"), projector.Consistent, projector.Options{Cache: cache})
	require.NoError(t, err, "cached projection")
	assert.Equal(t, counter{Count: 5, Sum: 15}, res.State, "cached projection")
	assert.True(t, res.Cached, "the cached state extended")
	assert.Equal(t, 1, res.Applied, "by one event")
	region, err := projector.Project[counter](bg, log, projector.Over(event.AllEvents()), projector.Consistent, projector.Options{})
	require.NoError(t, err, "region projection")
	assert.Equal(t, 5, region.State.Count, "region projection")
}

func (s *suite) closed(t *testing.T) {
	st := s.open(t)
	c := event.MustCoordinate("a:1", "s")
	r := mustAppend(t, st, c, KindMoved, Moved{})
	require.NoError(t, st.Sync(bg), "Sync")
	require.NoError(t, st.Close(), "Close")
	require.NoError(t, st.Close(), "a second Close")
	_, err := st.Append(bg, c, KindMoved, Moved{})
	assert.ErrorIs(t, err, batpak.ErrClosed, "Append after Close")
	_, err = st.AppendBatch(bg, []batpak.BatchItem{{Coord: c, Kind: KindMoved, Payload: Moved{}}})
	assert.ErrorIs(t, err, batpak.ErrClosed, "AppendBatch after Close")
	_, err = st.Get(bg, r.ID)
	assert.ErrorIs(t, err, batpak.ErrClosed, "Get after Close")
	_, err = st.Cursor(event.AllEvents(), 0)
	assert.ErrorIs(t, err, batpak.ErrClosed, "Cursor after Close")
	_, err = st.Subscribe(event.AllEvents(), 1)
	assert.ErrorIs(t, err, batpak.ErrClosed, "Subscribe after Close")
	var qerr error
	for _, err := range st.Query(bg, event.AllEvents()) {
		qerr = err
		break
	}
	assert.ErrorIs(t, qerr, batpak.ErrClosed, "Query after Close")
}
