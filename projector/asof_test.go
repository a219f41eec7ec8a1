package projector_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/projector"
)

func projectAsOf[T any, P projector.EventSourced[T]](t *testing.T, log projector.Log, entity string, f projector.Freshness, opts projector.Options) projector.Result[T] {
	t.Helper()
	res, err := projector.Project[T, P](context.Background(), log, projector.Entity(entity), f, opts)
	require.NoError(t, err)
	return res
}

// Property: the state as of position p is the fold of the first p events,
// with no cache, with a cache holding a newer state (which must not leak
// into the read, and stays), and with one holding an older state.
func TestAsOfIsTheFoldUpToThePosition(t *testing.T) {
	for seed := range uint64(60) {
		rng := rand.New(rand.NewPCG(seed, 9))
		evs := randomEvents(rng, 1+rng.IntN(60))
		log := newMemLog()
		log.appendAll(evs)
		head := uint64(len(evs))
		const entity = "account:1"
		newer := projector.NewMemoryCache(8)
		projectAsOf[ledger](t, log, entity, projector.Consistent, projector.Options{Cache: newer})
		for p := uint64(1); p <= head; p++ {
			want := foldLedger(evs[:p], entity)
			got := projectAsOf[ledger](t, log, entity, projector.Consistent, projector.Options{AsOf: p})
			require.True(t, sameLedger(want, got.State), "seed %d as of %d: %+v, want %+v", seed, p, got.State, want)
			assert.Equal(t, p, got.Watermark)

			got = projectAsOf[ledger](t, log, entity, projector.MaybeStale(time.Hour), projector.Options{Cache: newer, AsOf: p})
			require.True(t, sameLedger(want, got.State), "seed %d as of %d over a newer cache: %+v, want %+v", seed, p, got.State, want)
			assert.Equal(t, p == head, got.Cached, "only the head's own state may come from the cache")

			older := projector.NewMemoryCache(8)
			w := rng.Uint64N(p + 1)
			projectAsOf[ledger](t, log, entity, projector.Consistent, projector.Options{Cache: older, AsOf: max(w, 1)})
			got = projectAsOf[ledger](t, log, entity, projector.Consistent, projector.Options{Cache: older, AsOf: p})
			require.True(t, sameLedger(want, got.State), "seed %d as of %d from a state at %d: %+v, want %+v", seed, p, w, got.State, want)
		}
		e, ok, err := newer.Get(projector.Key{Name: "ledger", Version: 1, Subject: entity})
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, head, e.Watermark, "as-of reads left the newer cached state in place")
	}
}

func TestAsOfExtendsAnOlderCachedStateOnly(t *testing.T) {
	log := newMemLog()
	for i := range 10 {
		log.append("a", kDeposit, amountBytes(int64(i)))
	}
	cache := projector.NewMemoryCache(8)
	opts := projector.Options{Cache: cache, AsOf: 4}
	res := projectAsOf[ledger](t, log, "a", projector.Consistent, opts)
	assert.False(t, res.Cached)
	assert.Equal(t, 4, res.Applied)

	opts.AsOf = 7
	res = projectAsOf[ledger](t, log, "a", projector.Consistent, opts)
	assert.True(t, res.Cached)
	assert.Equal(t, 3, res.Applied, "only the events after the cached state's watermark are read")
	assert.Equal(t, int64(0+1+2+3+4+5+6), res.State.Balance)

	opts.AsOf = 2
	res = projectAsOf[ledger](t, log, "a", projector.Consistent, opts)
	assert.False(t, res.Cached, "a cached state at 7 is past the position 2")
	assert.Equal(t, int64(1), res.State.Balance)

	res = projectAsOf[ledger](t, log, "a", projector.Consistent, projector.Options{Cache: cache})
	assert.True(t, res.Cached, "the read at the head extends the state at 7")
	assert.Equal(t, 3, res.Applied)
}

func TestAsOfANonIncrementalProjection(t *testing.T) {
	log := newMemLog()
	for range 6 {
		log.append("a", kDeposit, nil)
	}
	cache := projector.NewMemoryCache(8)
	projectAsOf[tally](t, log, "a", projector.Consistent, projector.Options{Cache: cache})
	res := projectAsOf[tally](t, log, "a", projector.Consistent, projector.Options{Cache: cache, AsOf: 3})
	assert.Equal(t, 3, res.State.N)
}

func TestAsOfPastTheHeadIsRefused(t *testing.T) {
	log := newMemLog()
	log.append("a", kDeposit, amountBytes(1))
	_, err := projector.Project[ledger](context.Background(), log, projector.Entity("a"), projector.Consistent, projector.Options{AsOf: 2})
	assert.ErrorIs(t, err, projector.ErrNotVisible)
}

func TestRegionCacheKeys(t *testing.T) {
	// The key of a region of one exact scope is what it was before scope
	// prefixes and sets: states cached then are still found.
	assert.Equal(t, "\x00region{Entity:player: EntityPrefix:true Scope:room:1 Kinds:{mode:0 kind:0 category:0 set:[]} MinSequence:0 MaxSequence:0}",
		projector.Over(event.ForEntity("player:*").WithScope("room:1")).Key())
	keys := map[string]event.Region{}
	for _, r := range []event.Region{
		event.ForScope("room:"), event.ForScope("room:*"), event.ForScopes("a", "b"), event.ForScopes("a", "b*"),
		event.ForScopes("a*", "b"), event.ForScopes(), event.AllEvents(),
	} {
		k := projector.Over(r).Key()
		_, dup := keys[k]
		assert.False(t, dup, "%+v shares its key with %+v", r, keys[k])
		keys[k] = r
	}
	assert.Equal(t, projector.Over(event.ForScopes("b", "a", "b")).Key(), projector.Over(event.ForScopes("a", "b")).Key(), "a set's key does not depend on the order of its terms")
}
