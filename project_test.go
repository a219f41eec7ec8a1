package batpak_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/projector"
)

var (
	projInc  = event.MustCustom(0x1, 0x001)
	projDec  = event.MustCustom(0x1, 0x002)
	projNote = event.MustCustom(0x1, 0x003)
)

// projCounter is the W6 projection: it counts an entity's increments.
type projCounter struct{ N int64 }

func (*projCounter) Projection() projector.Spec {
	return projector.Spec{Name: "counter", Version: 1, Kinds: []event.EventKind{projInc}, Incremental: true}
}

func (c *projCounter) Apply(*event.StoredEvent) error { c.N++; return nil }

// projStep is the payload of projInc and projDec events in these tests.
type projStep struct {
	By int64 `msgpack:"by"`
}

// projApplied counts every event any projScore projection projApplied, so tests can
// tell a cached projection from a replay.
var projApplied atomic.Int64

// projScore adds up increments and subtracts decrements; notes are not its
// business, and Apply fails if it is ever handed one.
type projScore struct {
	Total int64
	Count int
}

func (*projScore) Projection() projector.Spec {
	return projector.Spec{Name: "score", Version: 1, Kinds: []event.EventKind{projInc, projDec}, Incremental: true}
}

func (s *projScore) Apply(ev *event.StoredEvent) error {
	projApplied.Add(1)
	st, err := batpak.Decode[projStep](ev)
	if err != nil {
		return err
	}
	switch ev.Kind {
	case projInc:
		s.Total += st.By
	case projDec:
		s.Total -= st.By
	default:
		return fmt.Errorf("score was handed kind %v", ev.Kind)
	}
	s.Count++
	return nil
}

// projScoreV2 is projScore's next schema version, counting in hundredths.
type projScoreV2 struct{ Hundredths int64 }

func (*projScoreV2) Projection() projector.Spec {
	return projector.Spec{Name: "score", Version: 2, Kinds: []event.EventKind{projInc, projDec}, Incremental: true}
}

func (s *projScoreV2) Apply(ev *event.StoredEvent) error {
	var sc projScore
	if err := sc.Apply(ev); err != nil {
		return err
	}
	s.Hundredths += 100 * sc.Total
	return nil
}

func projOpen(tb testing.TB, dir string, opts ...batpak.Option) *batpak.Store {
	tb.Helper()
	s, err := batpak.Open(dir, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

type projEvent struct {
	entity string
	kind   event.EventKind
	by     int64
}

func projGenEvents(rng *rand.Rand, n, entities int) []projEvent {
	kinds := []event.EventKind{projInc, projDec, projNote}
	evs := make([]projEvent, n)
	for i := range evs {
		evs[i] = projEvent{fmt.Sprintf("player:%d", rng.IntN(entities)), kinds[rng.IntN(3)], rng.Int64N(100)}
	}
	return evs
}

func projAppend(tb testing.TB, s *batpak.Store, evs []projEvent) {
	tb.Helper()
	if len(evs) == 0 {
		return
	}
	items := make([]batpak.BatchItem, len(evs))
	for i, e := range evs {
		var payload any = projStep{By: e.by}
		if e.kind == projNote {
			payload = []byte("not msgpack: decoding this would fail")
		}
		items[i] = batpak.BatchItem{Coord: event.MustCoordinate(e.entity, "room:1"), Kind: e.kind, Payload: payload}
	}
	if _, err := s.AppendBatch(context.Background(), items); err != nil {
		tb.Fatal(err)
	}
}

func projFold(evs []projEvent, entity string) projScore {
	var s projScore
	for _, e := range evs {
		if e.entity != entity {
			continue
		}
		switch e.kind {
		case projInc:
			s.Total += e.by
		case projDec:
			s.Total -= e.by
		default:
			continue
		}
		s.Count++
	}
	return s
}

func projMust[T any, P projector.EventSourced[T]](tb testing.TB, s *batpak.Store, entity string, f batpak.Freshness, opts ...batpak.ProjectOption) T {
	tb.Helper()
	v, err := batpak.Project[T, P](context.Background(), s, entity, f, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// Property: over random event sequences, appended in random batches, a
// projection equals the fold of the log — with and without a cache.
func TestProjectEqualsFoldOfLog(t *testing.T) {
	for seed := range uint64(12) {
		rng := rand.New(rand.NewPCG(seed, 6))
		s := projOpen(t, t.TempDir())
		cache := projector.NewMemoryCache(64)
		var all []projEvent
		for range 1 + rng.IntN(5) {
			batch := projGenEvents(rng, 1+rng.IntN(40), 4)
			projAppend(t, s, batch)
			all = append(all, batch...)
			for e := range 5 {
				entity := fmt.Sprintf("player:%d", e)
				want := projFold(all, entity)
				if got := projMust[projScore](t, s, entity, batpak.Consistent); got != want {
					t.Fatalf("seed %d, %s: projected %+v, fold of the log %+v", seed, entity, got, want)
				}
				if got := projMust[projScore](t, s, entity, batpak.Consistent, batpak.FromCache(cache)); got != want {
					t.Fatalf("seed %d, %s, cached: projected %+v, fold of the log %+v", seed, entity, got, want)
				}
			}
		}
	}
}

// The scan reads adjacent frames in runs; runs must break at segment
// boundaries and across other entities' frames without losing an event.
func TestProjectReadsAcrossSegments(t *testing.T) {
	s := projOpen(t, t.TempDir(), batpak.WithSegmentSize(64<<10))
	rng := rand.New(rand.NewPCG(7, 7))
	var all []projEvent
	for range 20 {
		batch := projGenEvents(rng, 200, 3)
		projAppend(t, s, batch)
		all = append(all, batch...)
	}
	if st := s.Stats(); st.Segments < 3 {
		t.Fatalf("only %d segments; the test needs several", st.Segments)
	}
	for e := range 3 {
		entity := fmt.Sprintf("player:%d", e)
		if got, want := projMust[projScore](t, s, entity, batpak.Consistent), projFold(all, entity); got != want {
			t.Fatalf("%s: projected %+v, fold %+v", entity, got, want)
		}
	}
	total, err := batpak.ProjectRegion[projScore](context.Background(), s, event.ForEntity("player:*"), batpak.Consistent)
	if err != nil {
		t.Fatal(err)
	}
	var want projScore
	for e := range 3 {
		f := projFold(all, fmt.Sprintf("player:%d", e))
		want.Total, want.Count = want.Total+f.Total, want.Count+f.Count
	}
	if total != want {
		t.Fatalf("region: projected %+v, fold %+v", total, want)
	}
}

func TestProjectIncrementalAppliesOnlyNewEvents(t *testing.T) {
	s := projOpen(t, t.TempDir())
	cache := projector.NewMemoryCache(8)
	evs := make([]projEvent, 100)
	for i := range evs {
		evs[i] = projEvent{"player:1", projInc, 1}
	}
	projAppend(t, s, evs)
	projMust[projScore](t, s, "player:1", batpak.Consistent, batpak.FromCache(cache))
	projAppend(t, s, []projEvent{{"player:1", projInc, 5}, {"player:2", projInc, 5}, {"player:1", projDec, 2}})
	before := projApplied.Load()
	got := projMust[projScore](t, s, "player:1", batpak.Consistent, batpak.FromCache(cache))
	if n := projApplied.Load() - before; n != 2 {
		t.Fatalf("projApplied %d events; only 2 of player:1 arrived after the cached state", n)
	}
	full := projMust[projScore](t, s, "player:1", batpak.Consistent)
	if got != full || got.Total != 103 {
		t.Fatalf("incremental %+v, full replay %+v", got, full)
	}
}

func TestProjectSchemaBumpIgnoresOldEntries(t *testing.T) {
	s := projOpen(t, t.TempDir())
	cache, err := projector.OpenFileCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	projAppend(t, s, []projEvent{{"player:1", projInc, 3}})
	if v1 := projMust[projScore](t, s, "player:1", batpak.Consistent, batpak.FromCache(cache)); v1.Total != 3 {
		t.Fatalf("v1 %+v", v1)
	}
	// Poison the version-1 entry: version 1 reads it, version 2 must not.
	b, _ := projector.MarshalState(&projScore{Total: -1000})
	cache.Put(projector.Key{Name: "score", Version: 1, Subject: "player:1"}, projector.Entry{State: b, Watermark: s.Stats().LastGlobal, CachedAt: time.Now()})
	if v1 := projMust[projScore](t, s, "player:1", batpak.Consistent, batpak.FromCache(cache)); v1.Total != -1000 {
		t.Fatalf("v1 did not read its cache entry: %+v", v1)
	}
	if v2 := projMust[projScoreV2](t, s, "player:1", batpak.Consistent, batpak.FromCache(cache)); v2.Hundredths != 300 {
		t.Fatalf("v2 = %+v, want 300 from a replay", v2)
	}
}

func TestProjectFileCacheSurvivesReopen(t *testing.T) {
	storeDir, cacheDir := t.TempDir(), t.TempDir()
	evs := []projEvent{{"player:1", projInc, 10}, {"player:1", projNote, 0}, {"player:1", projDec, 4}}

	s, err := batpak.Open(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	cache, err := projector.OpenFileCache(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	projAppend(t, s, evs)
	projMust[projScore](t, s, "player:1", batpak.Consistent, batpak.FromCache(cache))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = projOpen(t, storeDir)
	cache, err = projector.OpenFileCache(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	before := projApplied.Load()
	if got := projMust[projScore](t, s, "player:1", batpak.Consistent, batpak.FromCache(cache)); got.Total != 6 || projApplied.Load() != before {
		t.Fatalf("after reopen: %+v with %d events projApplied; want 6 from the cache alone", got, projApplied.Load()-before)
	}
	projAppend(t, s, []projEvent{{"player:1", projInc, 1}})
	if got := projMust[projScore](t, s, "player:1", batpak.Consistent, batpak.FromCache(cache)); got.Total != 7 || projApplied.Load() != before+1 {
		t.Fatalf("after one more event: %+v with %d projApplied; want 7 with 1", got, projApplied.Load()-before)
	}
}

func TestProjectReplaysOverCorruptCacheEntry(t *testing.T) {
	s := projOpen(t, t.TempDir())
	cacheDir := t.TempDir()
	cache, err := projector.OpenFileCache(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	projAppend(t, s, []projEvent{{"player:1", projInc, 10}, {"player:1", projInc, 5}})
	projMust[projScore](t, s, "player:1", batpak.Consistent, batpak.FromCache(cache))

	key := projector.Key{Name: "score", Version: 1, Subject: "player:1"}
	path := cache.Path(key)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-6] ^= 0xFF // inside the state
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cache, err = projector.OpenFileCache(cacheDir) // a fresh process: nothing in memory
	if err != nil {
		t.Fatal(err)
	}
	before := projApplied.Load()
	if got := projMust[projScore](t, s, "player:1", batpak.Consistent, batpak.FromCache(cache)); got.Total != 15 || projApplied.Load()-before != 2 {
		t.Fatalf("over a corrupt entry: %+v, %d projApplied; want 15 from a replay of 2", got, projApplied.Load()-before)
	}
	if st := cache.Stats(); st.Corrupt != 1 {
		t.Fatalf("cache stats %+v, want the corrupt entry counted", st)
	}
	// The replay rewrote the entry.
	fresh, err := projector.OpenFileCache(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok, err := fresh.Get(key); !ok || err != nil || e.Watermark != 2 {
		t.Fatalf("entry after the replay: %+v, %t, %v", e, ok, err)
	}
}

func TestProjectMaybeStale(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	s := projOpen(t, t.TempDir(), batpak.WithClock(clock))
	cache := batpak.FromCache(projector.NewMemoryCache(8))
	projAppend(t, s, []projEvent{{"player:1", projInc, 1}})
	projMust[projScore](t, s, "player:1", batpak.Consistent, cache)
	projAppend(t, s, []projEvent{{"player:1", projInc, 1}})
	now.Add(int64(time.Second))
	if got := projMust[projScore](t, s, "player:1", batpak.MaybeStale(time.Minute), cache); got.Total != 1 {
		t.Fatalf("MaybeStale within its age: %+v, want the cached total 1", got)
	}
	if got := projMust[projScore](t, s, "player:1", batpak.Consistent, cache); got.Total != 2 {
		t.Fatalf("Consistent: %+v, want 2", got)
	}
	projAppend(t, s, []projEvent{{"player:1", projInc, 1}})
	now.Add(int64(time.Hour))
	if got := projMust[projScore](t, s, "player:1", batpak.MaybeStale(time.Minute), cache); got.Total != 3 {
		t.Fatalf("MaybeStale past its age: %+v, want 3", got)
	}
}

func TestProjectEntityWithoutEventsIsInitialState(t *testing.T) {
	s := projOpen(t, t.TempDir())
	if got := projMust[projScore](t, s, "player:nobody", batpak.Consistent); got != (projScore{}) {
		t.Fatalf("%+v", got)
	}
	if _, err := batpak.Project[projScore](context.Background(), s, "", batpak.Consistent); !errors.Is(err, batpak.ErrInvalidCoordinate) {
		t.Fatalf("empty entity: %v", err)
	}
}

func TestProjectAfterCloseIsErrClosed(t *testing.T) {
	s := projOpen(t, t.TempDir())
	s.Close()
	if _, err := batpak.Project[projScore](context.Background(), s, "player:1", batpak.Consistent); !errors.Is(err, batpak.ErrClosed) {
		t.Fatalf("err = %v, want ErrClosed", err)
	}
}

func TestProjectApplyErrorIsReturned(t *testing.T) {
	s := projOpen(t, t.TempDir())
	if _, err := s.Append(context.Background(), event.MustCoordinate("player:1", "room:1"), projInc, []byte("raw, not msgpack")); err != nil {
		t.Fatal(err)
	}
	_, err := batpak.Project[projScore](context.Background(), s, "player:1", batpak.Consistent)
	var ae *projector.ApplyError
	if !errors.As(err, &ae) || ae.Global != 1 {
		t.Fatalf("err = %v, want an ApplyError at event 1", err)
	}
}

// projW6Store opens a store holding BENCH.md's W6 entity: n events of the
// common payload shape.
func projW6Store(tb testing.TB, n int) *batpak.Store {
	tb.Helper()
	s := projOpen(tb, tb.TempDir())
	coord := event.MustCoordinate("player:0", "room:0")
	items := make([]batpak.BatchItem, n)
	for i := range items {
		items[i] = batpak.BatchItem{Coord: coord, Kind: projInc, Payload: map[string]int{"x": i, "y": 2 * i}}
	}
	if _, err := s.AppendBatch(context.Background(), items); err != nil {
		tb.Fatal(err)
	}
	return s
}

// BenchmarkW6 is BENCH.md's W6: one entity with 1,000 events, a projCounter
// projection, without a cache and with each cache. The "file-nofront" case
// reads the cache file on every projection.
func BenchmarkW6(b *testing.B) {
	ctx := context.Background()
	s := projW6Store(b, 1000)
	fc, err := projector.OpenFileCache(filepath.Join(b.TempDir(), "front"))
	if err != nil {
		b.Fatal(err)
	}
	cold, err := projector.OpenFileCache(filepath.Join(b.TempDir(), "cold"), projector.WithMemoryFront(0))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		opts []batpak.ProjectOption
	}{
		{"nocache", nil},
		{"memory", []batpak.ProjectOption{batpak.FromCache(projector.NewMemoryCache(16))}},
		{"file", []batpak.ProjectOption{batpak.FromCache(fc)}},
		{"file-nofront", []batpak.ProjectOption{batpak.FromCache(cold)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c, err := batpak.Project[projCounter](ctx, s, "player:0", batpak.Consistent, bc.opts...)
				if err != nil || c.N != 1000 {
					b.Fatal(c.N, err)
				}
			}
		})
	}
	// The reference, measured in the same run: the same fold over the
	// store's general read path (Stream, one read per event).
	b.Run("stream-reference", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var c projCounter
			for ev, err := range s.Stream(ctx, "player:0") {
				if err != nil {
					b.Fatal(err)
				}
				if ev.Kind == projInc {
					c.Apply(ev)
				}
			}
			if c.N != 1000 {
				b.Fatal(c.N)
			}
		}
	})
}

// AccountBalance is an account's state, folded from its events.
type AccountBalance struct {
	Cents int64
}

var (
	acctDeposited = event.MustCustom(0x2, 0x001)
	acctWithdrawn = event.MustCustom(0x2, 0x002)
)

// Projection describes the fold: its name, schema version, the kinds it
// reads, and that Apply is a pure fold (so a cached state can be extended).
func (*AccountBalance) Projection() projector.Spec {
	return projector.Spec{Name: "balance", Version: 1, Kinds: []event.EventKind{acctDeposited, acctWithdrawn}, Incremental: true}
}

// Apply folds one event into the balance.
func (b *AccountBalance) Apply(ev *event.StoredEvent) error {
	cents, err := batpak.Decode[int64](ev)
	if err != nil {
		return err
	}
	if ev.Kind == acctWithdrawn {
		cents = -cents
	}
	b.Cents += cents
	return nil
}

func ExampleProject() {
	dir, _ := os.MkdirTemp("", "batpak-example-")
	defer os.RemoveAll(dir)
	store, err := batpak.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	acct := event.MustCoordinate("account:42", "bank")
	store.Append(ctx, acct, acctDeposited, int64(1000))
	store.Append(ctx, acct, acctWithdrawn, int64(250))

	cache := projector.NewMemoryCache(1024)
	b, err := batpak.Project[AccountBalance](ctx, store, "account:42", batpak.Consistent, batpak.FromCache(cache))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("balance:", b.Cents)

	// The cached state is at the last event; only the new deposit is projApplied.
	store.Append(ctx, acct, acctDeposited, int64(5))
	b, _ = batpak.Project[AccountBalance](ctx, store, "account:42", batpak.Consistent, batpak.FromCache(cache))
	fmt.Println("balance:", b.Cents)
	// Output:
	// balance: 750
	// balance: 755
}

// An account's balance as it was after its second event, for a dispute,
// while the cache holds the newest state (which the as-of read must not
// use).
func ExampleAsOf() {
	dir, _ := os.MkdirTemp("", "batpak-example-")
	defer os.RemoveAll(dir)
	store, err := batpak.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	acct := event.MustCoordinate("account:7", "bank")
	store.Append(ctx, acct, acctDeposited, int64(1000))
	disputed, _ := store.Append(ctx, acct, acctWithdrawn, int64(400))
	store.Append(ctx, acct, acctDeposited, int64(50))

	cache := batpak.FromCache(projector.NewMemoryCache(16))
	now, _ := batpak.Project[AccountBalance](ctx, store, "account:7", batpak.Consistent, cache)
	then, err := batpak.Project[AccountBalance](ctx, store, "account:7", batpak.Consistent, cache, batpak.AsOf(disputed.Global))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("now:", now.Cents, "after the withdrawal:", then.Cents)
	// Output:
	// now: 650 after the withdrawal: 600
}

// projRoster is a read model across many entities: each player's count of
// increments, keyed by entity.
type projRoster struct{ Counts map[string]int }

func (*projRoster) Projection() projector.Spec {
	return projector.Spec{Name: "roster", Version: 1, Kinds: []event.EventKind{projInc}, Incremental: true}
}

func (r *projRoster) Apply(ev *event.StoredEvent) error {
	if r.Counts == nil {
		r.Counts = make(map[string]int)
	}
	r.Counts[ev.Coordinate.Entity()]++
	return nil
}

// projTripped makes the next projFragile.Apply of an event of 13 panic.
var projTripped atomic.Bool

// projFragile is projScore, except that it panics once when tripped.
type projFragile struct{ projScore }

func (*projFragile) Projection() projector.Spec {
	return projector.Spec{Name: "fragile", Version: 1, Kinds: []event.EventKind{projInc, projDec}, Incremental: true}
}

func (f *projFragile) Apply(ev *event.StoredEvent) error {
	if st, err := batpak.Decode[projStep](ev); err == nil && st.By == 13 && projTripped.CompareAndSwap(true, false) {
		panic("tripped")
	}
	return f.projScore.Apply(ev)
}

// projQuiet discards the store's log records (restart stacks).
var projQuiet = batpak.WithLogger(slog.New(slog.DiscardHandler))
