package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// batchesStayWhole checks that the cursors' capped reads (NextBatch with a
// small limit) never split an atomic batch: the events of a batch that
// fall in the cursor's region come in one call, even when the batch's
// other events lie outside the region, and a call holds more than its
// limit only when one batch alone does.
func (s *suite) batchesStayWhole(t *testing.T) {
	st := s.open(t)
	hall, crypt := "room:hall", "room:crypt"
	type item struct{ scope string }
	batches := map[string][]item{} // by the From of its items' payloads
	for b := range 8 {
		c := event.MustCoordinate("player:solo", []string{hall, crypt}[b%2])
		mustAppend(t, st, c, KindSpoke, Moved{N: b}) // appended alone: From ""
		name := fmt.Sprintf("batch-%d", b)
		n := 2 + b%5
		items := make([]batpak.BatchItem, n)
		for i := range items {
			// The last item, which closes the batch, lies outside the hall
			// in every other batch.
			scope := hall
			if (i+b)%2 == 1 {
				scope = crypt
			}
			batches[name] = append(batches[name], item{scope})
			items[i] = batpak.BatchItem{Coord: event.MustCoordinate(fmt.Sprintf("player:%d", i), scope), Kind: KindMoved,
				Payload: Moved{From: name, N: i}}
		}
		_, err := st.AppendBatch(bg, items)
		require.NoError(t, err)
	}
	for ri, r := range []batpak.Region{event.AllEvents(), event.ForScope(hall)} {
		inRegion := func(name string) int {
			n := 0
			for _, it := range batches[name] {
				if r.Scope == "" || r.Scope == it.scope {
					n++
				}
			}
			return n
		}
		want := globals(collect(t, st.Query(bg, r)))
		for _, max := range []int{1, 2, 3} {
			cur, err := st.Cursor(r, 0)
			require.NoError(t, err)
			s.readWhole(t, fmt.Sprintf("cursor, region %+v, NextBatch(%d)", r, max), cur, max, want, inRegion)
			require.NoError(t, cur.Close())
			dc, err := st.DurableCursor(fmt.Sprintf("whole-%d-%d", ri, max), r)
			require.NoError(t, err)
			s.readWhole(t, fmt.Sprintf("durable cursor, region %+v, NextBatch(%d)", r, max), dc, max, want, inRegion)
			require.NoError(t, dc.Close())
		}
	}
}

// readWhole reads want's events from cur with NextBatch(max) and checks
// that every call holds each batch it touches whole (inRegion(name) of
// its events).
func (s *suite) readWhole(t *testing.T, what string, cur batpak.Cursor, max int, want []uint64, inRegion func(string) int) {
	t.Helper()
	var got []uint64
	for len(got) < len(want) {
		ctx, cancel := context.WithTimeout(bg, s.cfg.wait)
		evs, err := cur.NextBatch(ctx, max)
		cancel()
		require.NoError(t, err, "%s after %v", what, got)
		count := map[string]int{}
		for _, ev := range evs {
			var m Moved
			require.NoError(t, ev.Decode(&m))
			if m.From != "" {
				count[m.From]++
			}
		}
		for name, n := range count {
			require.Equal(t, inRegion(name), n, "%s: %s split (call returned %v)", what, name, globals(evs))
		}
		if len(evs) > max {
			require.Len(t, count, 1, "%s: %d events for a limit of %d, not one batch", what, len(evs), max)
		}
		got = append(got, globals(evs)...)
		require.Equal(t, got[len(got)-1], cur.Position(), what)
	}
	require.Equal(t, want, got, what)
}

// headBetweenBatches checks that the projection log's head, the watermark
// projections and watches read up to, never lies inside an atomic batch,
// even while batches are being stored: a projection read up to it would
// hold part of one.
func (s *suite) headBetweenBatches(t *testing.T) {
	st := s.open(t)
	const batches, size = 30, 200
	ends := map[uint64]bool{0: true} // the global sequence of each batch's last event
	appendBatch := func(b int) (uint64, error) {
		items := make([]batpak.BatchItem, size)
		for i := range items {
			items[i] = batpak.BatchItem{Coord: event.MustCoordinate(fmt.Sprintf("player:%d", i%7), "room:hall"), Kind: KindMoved,
				Payload: Moved{From: fmt.Sprintf("batch-%d", b), N: i}}
		}
		rs, err := st.AppendBatch(bg, items)
		if err != nil {
			return 0, err
		}
		return rs[size-1].Global, nil
	}
	done := make(chan error, 1)
	var appended []uint64 // written by the appender before done
	go func() {
		for b := range batches {
			end, err := appendBatch(b)
			if err != nil {
				done <- err
				return
			}
			appended = append(appended, end)
		}
		done <- nil
	}()
	// Polled as fast as the head is answered (up to maxPolls times, so a
	// fast backend is not spun on), and checked afterwards.
	const maxPolls = 5000
	log := st.ProjectionLog()
	var (
		heads []uint64
		err   error
	)
	for finished := false; !finished; {
		select {
		case err = <-done:
			finished = true
		default:
			if len(heads) == maxPolls {
				err, finished = <-done, true
			}
		}
		heads = append(heads, log.Head()) // the last one after the appends
	}
	require.NoError(t, err)
	for _, end := range appended {
		ends[end] = true
	}
	for _, h := range heads {
		require.True(t, ends[h], "head %d lies inside a batch (batches end at %v)", h, appended)
	}
	require.Equal(t, appended[len(appended)-1], heads[len(heads)-1])
	t.Logf("%d heads polled", len(heads))
}
