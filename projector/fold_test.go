package projector_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/projector"
)

var (
	kDeposit  = event.MustCustom(0x1, 0x001)
	kWithdraw = event.MustCustom(0x1, 0x002)
	kNoise    = event.MustCustom(0x1, 0x003)
)

// ledger is the test projection: a balance, an operation count and the last
// three amounts, folded from deposits and withdrawals (8-byte payloads).
type ledger struct {
	Balance int64
	Ops     int
	Last    []int64
}

func (*ledger) Projection() projector.Spec {
	return projector.Spec{Name: "ledger", Version: 1, Kinds: []event.EventKind{kDeposit, kWithdraw}, Incremental: true}
}

func (l *ledger) Apply(ev *event.StoredEvent) error {
	if len(ev.Payload) != 8 {
		return fmt.Errorf("payload of %d bytes", len(ev.Payload))
	}
	amount := int64(binary.LittleEndian.Uint64(ev.Payload))
	switch ev.Kind {
	case kDeposit:
		l.Balance += amount
	case kWithdraw:
		l.Balance -= amount
	default:
		return fmt.Errorf("ledger was handed kind %v it did not ask for", ev.Kind)
	}
	l.Ops++
	l.Last = append(l.Last, amount)
	if len(l.Last) > 3 {
		l.Last = slices.Clone(l.Last[len(l.Last)-3:])
	}
	return nil
}

// foldLedger is the model: the ledger folded directly from a list.
func foldLedger(evs []testEvent, entity string) ledger {
	var l ledger
	for _, e := range evs {
		if e.entity != entity || (e.kind != kDeposit && e.kind != kWithdraw) {
			continue
		}
		if err := l.Apply(&event.StoredEvent{Header: event.Header{Kind: e.kind}, Payload: amountBytes(e.amount)}); err != nil {
			panic(err)
		}
	}
	return l
}

type testEvent struct {
	entity string
	kind   event.EventKind
	amount int64
}

func amountBytes(a int64) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(a)) }

func randomEvents(rng *rand.Rand, n int) []testEvent {
	kinds := []event.EventKind{kDeposit, kWithdraw, kNoise}
	evs := make([]testEvent, n)
	for i := range evs {
		evs[i] = testEvent{
			entity: fmt.Sprintf("account:%d", rng.IntN(3)),
			kind:   kinds[rng.IntN(len(kinds))],
			amount: rng.Int64N(1000),
		}
	}
	return evs
}

func (l *memLog) appendAll(evs []testEvent) {
	for _, e := range evs {
		l.append(e.entity, e.kind, amountBytes(e.amount))
	}
}

func sameLedger(a, b ledger) bool {
	return a.Balance == b.Balance && a.Ops == b.Ops && slices.Equal(a.Last, b.Last)
}

func project[T any, P projector.EventSourced[T]](t *testing.T, log projector.Log, entity string, f projector.Freshness, opts projector.Options) projector.Result[T] {
	t.Helper()
	res, err := projector.Project[T, P](context.Background(), log, projector.Entity(entity), f, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Property: a projection equals the fold of the log, for random sequences.
func TestProjectEqualsFoldOfLog(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 1))
		evs := randomEvents(rng, rng.IntN(60))
		log := newMemLog()
		log.appendAll(evs)
		for _, entity := range []string{"account:0", "account:1", "account:2", "account:none"} {
			got := project[ledger](t, log, entity, projector.Consistent, projector.Options{})
			if want := foldLedger(evs, entity); !sameLedger(got.State, want) {
				t.Fatalf("seed %d, %s: projected %+v, fold gives %+v", seed, entity, got.State, want)
			}
			if got.Watermark != uint64(len(evs)) {
				t.Fatalf("seed %d: watermark %d, head %d", seed, got.Watermark, len(evs))
			}
		}
	}
}

// Property: with a cache, appending and projecting in any interleaving gives
// the full replay's state, and each projection applies only the events that
// arrived after the cached watermark.
func TestIncrementalEqualsFullReplay(t *testing.T) {
	for seed := range uint64(100) {
		rng := rand.New(rand.NewPCG(seed, 2))
		log := newMemLog()
		cache := projector.NewMemoryCache(8)
		var all []testEvent
		var lastOps int
		for range 10 {
			batch := randomEvents(rng, rng.IntN(15))
			log.appendAll(batch)
			all = append(all, batch...)
			inc := project[ledger](t, log, "account:1", projector.Consistent, projector.Options{Cache: cache})
			full := project[ledger](t, log, "account:1", projector.Consistent, projector.Options{})
			if !sameLedger(inc.State, full.State) || !sameLedger(full.State, foldLedger(all, "account:1")) {
				t.Fatalf("seed %d: incremental %+v, full replay %+v", seed, inc.State, full.State)
			}
			if inc.Cached && inc.Applied != full.State.Ops-lastOps {
				t.Fatalf("seed %d: applied %d events, but only %d arrived since the cached state", seed, inc.Applied, full.State.Ops-lastOps)
			}
			lastOps = full.State.Ops
		}
	}
}

func TestIncrementalReadsOnlyEventsAfterWatermark(t *testing.T) {
	log := newMemLog()
	for range 100 {
		log.append("account:0", kDeposit, amountBytes(1))
	}
	cache := projector.NewMemoryCache(8)
	project[ledger](t, log, "account:0", projector.Consistent, projector.Options{Cache: cache})
	before := log.scans()
	log.append("account:0", kDeposit, amountBytes(5))
	res := project[ledger](t, log, "account:0", projector.Consistent, projector.Options{Cache: cache})
	// Two reads: the event at the cached watermark (is it still in the
	// log?) and the new one.
	if got := log.scans() - before; got != 2 || res.Applied != 1 || !res.Cached {
		t.Fatalf("read %d events and applied %d (cached %t) for one new event; want 2 reads", got, res.Applied, res.Cached)
	}
	if res.State.Balance != 105 {
		t.Fatalf("balance %d, want 105", res.State.Balance)
	}
}

// ledgerV2 is ledger's next schema: the same name, a new version, and a
// different meaning (it counts cents).
type ledgerV2 struct{ Cents int64 }

func (*ledgerV2) Projection() projector.Spec {
	return projector.Spec{Name: "ledger", Version: 2, Kinds: []event.EventKind{kDeposit, kWithdraw}, Incremental: true}
}

func (l *ledgerV2) Apply(ev *event.StoredEvent) error {
	a := int64(binary.LittleEndian.Uint64(ev.Payload)) * 100
	if ev.Kind == kWithdraw {
		a = -a
	}
	l.Cents += a
	return nil
}

func TestSchemaBumpIgnoresOldEntries(t *testing.T) {
	log := newMemLog()
	log.append("account:0", kDeposit, amountBytes(7))
	cache := projector.NewMemoryCache(8)
	// A wrong version-1 state at the head: version 1 trusts it, version 2 must not.
	b, err := projector.MarshalState(&ledger{Balance: 999})
	if err != nil {
		t.Fatal(err)
	}
	cache.Put(projector.Key{Name: "ledger", Version: 1, Subject: "account:0"}, projector.Entry{State: b, Watermark: 1, CachedAt: time.Now()})
	if v1 := project[ledger](t, log, "account:0", projector.Consistent, projector.Options{Cache: cache}); v1.State.Balance != 999 {
		t.Fatalf("version 1 did not use its cached state: %+v", v1.State)
	}
	v2 := project[ledgerV2](t, log, "account:0", projector.Consistent, projector.Options{Cache: cache})
	if v2.Cached || v2.State.Cents != 700 {
		t.Fatalf("version 2 = %+v (cached %t), want a replay giving 700", v2.State, v2.Cached)
	}
	if again := project[ledgerV2](t, log, "account:0", projector.Consistent, projector.Options{Cache: cache}); !again.Cached || again.State.Cents != 700 {
		t.Fatalf("version 2 did not cache under its own key: %+v (cached %t)", again.State, again.Cached)
	}
}

// tally is a non-incremental projection (Apply is treated as not a pure fold).
type tally struct{ N int }

func (*tally) Projection() projector.Spec {
	return projector.Spec{Name: "tally", Version: 1, Kinds: []event.EventKind{kDeposit}}
}

func (t *tally) Apply(*event.StoredEvent) error { t.N++; return nil }

func TestNonIncrementalReplaysWhenNewEventsArrive(t *testing.T) {
	log := newMemLog()
	cache := projector.NewMemoryCache(8)
	for range 5 {
		log.append("a", kDeposit, nil)
	}
	project[tally](t, log, "a", projector.Consistent, projector.Options{Cache: cache})
	log.append("a", kNoise, nil) // irrelevant: the cached state stays valid
	if res := project[tally](t, log, "a", projector.Consistent, projector.Options{Cache: cache}); !res.Cached || res.Applied != 0 || res.State.N != 5 {
		t.Fatalf("after an irrelevant event: %+v", res)
	}
	log.append("a", kDeposit, nil)
	res := project[tally](t, log, "a", projector.Consistent, projector.Options{Cache: cache})
	if res.Cached || res.Applied != 6 || res.State.N != 6 {
		t.Fatalf("after a relevant event: %+v, want a full replay of 6", res)
	}
}

func TestMaybeStaleServesCachedStateWithinMaxAge(t *testing.T) {
	log := newMemLog()
	cache := projector.NewMemoryCache(8)
	now := time.Unix(1_000_000, 0)
	opts := projector.Options{Cache: cache, Now: func() time.Time { return now }}
	log.append("a", kDeposit, amountBytes(1))
	project[ledger](t, log, "a", projector.Consistent, opts)
	log.append("a", kDeposit, amountBytes(1))

	now = now.Add(time.Second)
	if res := project[ledger](t, log, "a", projector.MaybeStale(time.Minute), opts); res.State.Balance != 1 || res.Watermark != 1 {
		t.Fatalf("within max age: %+v, want the cached balance 1 at watermark 1", res)
	}
	if res := project[ledger](t, log, "a", projector.Consistent, opts); res.State.Balance != 2 {
		t.Fatalf("consistent: balance %d, want 2", res.State.Balance)
	}
	log.append("a", kDeposit, amountBytes(1))
	now = now.Add(2 * time.Minute)
	if res := project[ledger](t, log, "a", projector.MaybeStale(time.Minute), opts); res.State.Balance != 3 {
		t.Fatalf("past max age: balance %d, want 3", res.State.Balance)
	}
}

func TestCachedStateBeyondTheLogIsIgnored(t *testing.T) {
	log := newMemLog()
	log.append("a", kDeposit, amountBytes(4))
	cache := projector.NewMemoryCache(8)
	b, _ := projector.MarshalState(&ledger{Balance: 999})
	cache.Put(projector.Key{Name: "ledger", Version: 1, Subject: "a"}, projector.Entry{State: b, Watermark: 50, CachedAt: time.Now()})
	if res := project[ledger](t, log, "a", projector.Consistent, projector.Options{Cache: cache}); res.Cached || res.State.Balance != 4 {
		t.Fatalf("%+v: a state at watermark 50 over a log of 1 event was trusted", res)
	}
}

func TestApplyErrorNamesTheEvent(t *testing.T) {
	log := newMemLog()
	log.append("a", kDeposit, amountBytes(1))
	log.append("a", kDeposit, []byte("bad"))
	_, err := projector.Project[ledger](context.Background(), log, projector.Entity("a"), projector.Consistent, projector.Options{})
	var ae *projector.ApplyError
	if !errors.As(err, &ae) || ae.Global != 2 || ae.Projection != "ledger" {
		t.Fatalf("err = %v, want an ApplyError for event 2", err)
	}
}

func TestProjectionsOverARegionFoldManyEntities(t *testing.T) {
	log := newMemLog()
	log.append("account:1", kDeposit, amountBytes(10))
	log.append("other:1", kDeposit, amountBytes(100))
	log.append("account:2", kWithdraw, amountBytes(3))
	res, err := projector.Project[ledger](context.Background(), log, projector.Over(event.ForEntity("account:*")), projector.Consistent, projector.Options{})
	if err != nil || res.State.Balance != 7 {
		t.Fatalf("balance %d, err %v; want 7", res.State.Balance, err)
	}
}

type unnamed struct{}

func (*unnamed) Projection() projector.Spec     { return projector.Spec{} }
func (*unnamed) Apply(*event.StoredEvent) error { return nil }

func TestSpecWithoutNameIsRejected(t *testing.T) {
	_, err := projector.Project[unnamed](context.Background(), newMemLog(), projector.Entity("a"), projector.Consistent, projector.Options{})
	if !errors.Is(err, projector.ErrInvalidSpec) {
		t.Fatalf("err = %v, want ErrInvalidSpec", err)
	}
}

// primed starts from a non-zero state and encodes itself.
type primed struct{ seen []uint64 }

func (p *primed) Init() { p.seen = []uint64{0} }

func (*primed) Projection() projector.Spec {
	return projector.Spec{Name: "primed", Version: 1, Incremental: true}
}

func (p *primed) Apply(ev *event.StoredEvent) error { p.seen = append(p.seen, ev.Global); return nil }

func (p *primed) MarshalBinary() ([]byte, error) {
	var b []byte
	for _, g := range p.seen {
		b = binary.AppendUvarint(b, g)
	}
	return b, nil
}

func (p *primed) UnmarshalBinary(b []byte) error {
	for len(b) > 0 {
		g, n := binary.Uvarint(b)
		if n <= 0 {
			return errors.New("bad varint")
		}
		p.seen, b = append(p.seen, g), b[n:]
	}
	return nil
}

func TestInitialStateAndBinaryCodec(t *testing.T) {
	log := newMemLog()
	cache := projector.NewMemoryCache(8)
	log.append("a", kNoise, nil)
	project[primed](t, log, "a", projector.Consistent, projector.Options{Cache: cache})
	log.append("a", kNoise, nil)
	res := project[primed](t, log, "a", projector.Consistent, projector.Options{Cache: cache})
	if !res.Cached || !slices.Equal(res.State.seen, []uint64{0, 1, 2}) {
		t.Fatalf("state %v (cached %t), want [0 1 2] from the cache", res.State.seen, res.Cached)
	}
}
