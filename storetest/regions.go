package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/projector"
)

// spatialRegions are the regions the scope tests ask for: a prefix, a set
// (an area of chunks), a set with a prefix among its terms, and a set
// narrowed to one entity.
func spatialRegions() []batpak.Region {
	return []batpak.Region{
		event.ForScope("zone:1/*"),
		event.ForScopes("zone:1/0,0", "zone:1/0,1", "zone:2/0,0", "zone:3/none"),
		event.ForScopes("zone:2/*", "zone:1/1,1"),
		event.ForScopes("zone:1/0,0", "zone:1/1,1").WithEntity("player:1"),
		event.ForScopes(),
	}
}

// spatialWorld appends events of three players across chunks of two zones
// (and a scope that only shares a prefix's first letters) and returns
// their receipts.
func spatialWorld(t *testing.T, st batpak.EventStore) []batpak.Receipt {
	t.Helper()
	scopes := []string{"zone:1/0,0", "zone:1/0,1", "zone:1/1,1", "zone:2/0,0", "zone:10/0,0", "room:1"}
	var rs []batpak.Receipt
	for i := range 24 {
		c := event.MustCoordinate(fmt.Sprintf("player:%d", i%3), scopes[i%len(scopes)])
		rs = append(rs, mustAppend(t, st, c, KindMoved, Moved{N: i}))
	}
	return rs
}

// inRegion lists the receipts' globals whose events r matches.
func inRegion(rs []batpak.Receipt, r batpak.Region) []uint64 {
	out := []uint64{}
	for _, rc := range rs {
		if r.Matches(rc.Coordinate, rc.Kind, rc.Sequence) {
			out = append(out, rc.Global)
		}
	}
	return out
}

// scopeRegions checks scope prefixes and sets on every read path: Query
// and QueryAfter, a cursor (history and live), a subscription and a
// projection over the region.
func (s *suite) scopeRegions(t *testing.T) {
	st := s.open(t)
	rs := spatialWorld(t, st)
	for _, r := range spatialRegions() {
		want := inRegion(rs, r)
		assert.Equal(t, want, globals(collect(t, st.Query(bg, r))), "Query(%+v)", r)
		after := rs[9].Global
		wantAfter := []uint64{}
		for _, g := range want {
			if g > after {
				wantAfter = append(wantAfter, g)
			}
		}
		assert.Equal(t, wantAfter, globals(collect(t, st.QueryAfter(bg, r, after))), "QueryAfter(%+v, %d)", r, after)

		n, err := batpak.ProjectRegion[counter](bg, st, r, batpak.Consistent)
		require.NoError(t, err)
		assert.Equal(t, len(want), n.Count, "ProjectRegion(%+v)", r)
	}

	// Live: a cursor and a subscription on an area, then events in and out of it.
	area := event.ForScopes("zone:1/0,0", "zone:1/0,1", "zone:1/1,0", "zone:1/1,1")
	cur, err := st.Cursor(area, rs[len(rs)-1].Global)
	require.NoError(t, err)
	defer cur.Close()
	sub, err := st.Subscribe(area, 64)
	require.NoError(t, err)
	defer sub.Close()
	prefix, err := st.Subscribe(event.ForScope("zone:1/*"), 64)
	require.NoError(t, err)
	defer prefix.Close()
	var live []batpak.Receipt
	for i, scope := range []string{"zone:1/1,0", "zone:2/0,0", "zone:1/5,5", "zone:1/0,0", "zone:10/1,1"} {
		live = append(live, mustAppend(t, st, event.MustCoordinate("player:9", scope), KindMoved, Moved{N: i}))
	}
	ctx := s.waitCtx(t)
	for _, g := range inRegion(live, area) {
		ev, err := cur.Next(ctx)
		require.NoError(t, err)
		assert.Equal(t, g, ev.Global, "cursor")
		n, err := sub.Recv(ctx)
		require.NoError(t, err)
		assert.Equal(t, g, n.Global, "subscription on a set")
	}
	for _, g := range inRegion(live, event.ForScope("zone:1/*")) {
		n, err := prefix.Recv(ctx)
		require.NoError(t, err)
		assert.Equal(t, g, n.Global, "subscription on a prefix")
	}
	assert.Zero(t, sub.Len()+prefix.Len(), "nothing outside the regions was delivered")
}

// asOf checks projections as of a position: an entity and a region as
// they were at a receipt, exact whatever came later, also with a cache
// that holds a newer state; a position not yet visible is refused.
func (s *suite) asOf(t *testing.T) {
	st := s.open(t)
	c := event.MustCoordinate("counter:asof", "zone:1/0,0")
	other := event.MustCoordinate("counter:other", "zone:1/0,1")
	var rs []batpak.Receipt
	for i := 1; i <= 6; i++ {
		rs = append(rs, mustAppend(t, st, c, KindMoved, Moved{N: i}))
		mustAppend(t, st, other, KindMoved, Moved{N: 100 * i})
	}
	cache := batpak.FromCache(projector.NewMemoryCache(8))
	head, err := batpak.Project[counter](bg, st, "counter:asof", batpak.Consistent, cache)
	require.NoError(t, err)
	require.Equal(t, counter{Count: 6, Sum: 21}, head)
	_, err = batpak.ProjectRegion[counter](bg, st, event.ForScope("zone:1/*"), batpak.Consistent, cache)
	require.NoError(t, err)

	for i, r := range rs {
		n := i + 1
		want := counter{Count: n, Sum: n * (n + 1) / 2}
		got, err := batpak.Project[counter](bg, st, "counter:asof", batpak.Consistent, batpak.AsOf(r.Global))
		require.NoError(t, err)
		assert.Equal(t, want, got, "as of receipt %d", n)
		got, err = batpak.Project[counter](bg, st, "counter:asof", batpak.Consistent, cache, batpak.AsOf(r.Global))
		require.NoError(t, err)
		assert.Equal(t, want, got, "as of receipt %d, with a newer cached state", n)
		// The region as of the same receipt: the other counter's events
		// before it are in, the one right after it is not.
		region, err := batpak.ProjectRegion[counter](bg, st, event.ForScope("zone:1/*"), batpak.Consistent, cache, batpak.AsOf(r.Global))
		require.NoError(t, err)
		assert.Equal(t, counter{Count: 2*n - 1, Sum: want.Sum + 100*(n-1)*n/2}, region, "region as of receipt %d", n)
	}
	again, err := batpak.Project[counter](bg, st, "counter:asof", batpak.Consistent, cache)
	require.NoError(t, err)
	assert.Equal(t, head, again, "as-of reads leave the head's state")

	_, err = batpak.Project[counter](bg, st, "counter:asof", batpak.Consistent, batpak.AsOf(rs[5].Global+1000))
	assert.True(t, errors.Is(err, projector.ErrNotVisible), "as of a position not yet visible: %v", err)
	_, err = batpak.WatchProjection[counter](st, "counter:asof", batpak.AsOf(rs[0].Global))
	assert.ErrorIs(t, err, batpak.ErrInvalidOption)
}
