package batpaktest_test

// Two tests written as a user of batpak writes them: a projection checked
// against a power loss, and a reactor checked across one. Copy them.

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/batpaktest"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/projector"
)

var (
	deposited = event.MustCustom(0x2, 0x001)
	ordered   = event.MustCustom(0x3, 0x001)
	shipped   = event.MustCustom(0x3, 0x002)
)

// Deposit is the payload of a deposited event.
type Deposit struct {
	Amount int64 `msgpack:"amount"`
}

// Balance is an account's balance, projected from its deposits.
type Balance struct {
	Total    int64
	Deposits int
}

func (*Balance) Projection() projector.Spec {
	return projector.Spec{Name: "balance", Version: 1, Kinds: []event.EventKind{deposited}, Incremental: true}
}

func (b *Balance) Apply(ev *event.StoredEvent) error {
	d, err := batpak.Decode[Deposit](ev)
	if err != nil {
		return err
	}
	b.Total += d.Amount
	b.Deposits++
	return nil
}

func deposit(t *testing.T, s *batpak.Store, account string, amount int64, d batpak.Durability) {
	t.Helper()
	_, err := s.AppendWithOptions(context.Background(), event.MustCoordinate(account, "bank:1"), deposited,
		Deposit{Amount: amount}, batpak.AppendOptions{Durability: d})
	require.NoError(t, err)
}

// A balance after a power loss holds exactly the deposits that were
// acknowledged durably: the on-write ones of the last sync window are gone
// from the log, and so from the projection.
func TestExampleProjectionAfterACrash(t *testing.T) {
	ctx := context.Background()
	store := batpaktest.Open(t, batpak.WithSyncEvery(0, 0)) // on-write events wait for a Sync
	deposit(t, store, "account:1", 100, batpak.Durable)
	deposit(t, store, "account:1", 20, batpak.Durable)
	deposit(t, store, "account:1", 5, batpak.OnWrite) // acknowledged, not yet durable

	before, err := batpak.Project[Balance](ctx, store, "account:1", batpak.Consistent)
	require.NoError(t, err)
	assert.Equal(t, Balance{Total: 125, Deposits: 3}, before)

	store = batpaktest.Crash(t, store)

	after, err := batpak.Project[Balance](ctx, store, "account:1", batpak.Consistent)
	require.NoError(t, err)
	assert.Equal(t, Balance{Total: 120, Deposits: 2}, after, "only the durable deposits survive")

	// The account goes on from what survived.
	deposit(t, store, "account:1", 1, batpak.Durable)
	after, err = batpak.Project[Balance](ctx, store, "account:1", batpak.Consistent)
	require.NoError(t, err)
	assert.Equal(t, Balance{Total: 121, Deposits: 3}, after)
}

// shipOrder is the reaction under test: every order gets one shipment.
// The shipment carries an idempotency key made from the order's id, so
// that reacting to the same order twice — which a durable react loop does
// after a crash for the orders handled since its last acknowledgement —
// appends nothing the second time.
func shipOrder(ev *batpak.StoredEvent) []batpak.BatchItem {
	return []batpak.BatchItem{{
		Coord:   event.MustCoordinate("shipment:"+ev.Coordinate.Entity(), "shop:1"),
		Kind:    shipped,
		Payload: []byte(ev.ID.String()),
		Options: batpak.AppendOptions{IdempotencyKey: "ship/" + ev.ID.String()},
	}}
}

// waitShipments reads shipments until n have been appended (or the test's
// deadline passes), with a cursor: no sleeping, no polling.
func waitShipments(t *testing.T, s *batpak.Store, n int) []*batpak.StoredEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cur, err := s.Cursor(event.AllEvents().WithKind(shipped), 0)
	require.NoError(t, err)
	defer cur.Close()
	var got []*batpak.StoredEvent
	for len(got) < n {
		ev, err := cur.Next(ctx)
		require.NoError(t, err, "waiting for shipment %d of %d", len(got)+1, n)
		got = append(got, ev)
	}
	return got
}

// Every order is shipped exactly once, though the power fails while the
// reactor works and the loop, resuming from its durable cursor, reacts
// again to orders it had already handled.
func TestExampleReactorAcrossACrash(t *testing.T) {
	ctx := context.Background()
	store := batpaktest.Open(t)
	for _, name := range []string{"order:1", "order:2", "order:3"} {
		_, err := store.Append(ctx, event.MustCoordinate(name, "shop:1"), ordered, []byte(name))
		require.NoError(t, err)
	}

	// First life: ship orders 1 and 2, and lose power while on order 3.
	var calls sync.Map // order → reactions to it, over both lives
	count := func(ev *batpak.StoredEvent) {
		n, _ := calls.LoadOrStore(ev.Coordinate.Entity(), new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
	}
	onOrder3 := make(chan struct{})
	_, err := store.ReactLoop(ctx, event.AllEvents().WithKind(ordered), func(ctx context.Context, ev *batpak.StoredEvent) ([]batpak.BatchItem, error) {
		count(ev)
		if ev.Coordinate.Entity() == "order:3" {
			close(onOrder3)
			<-ctx.Done() // still working when the power goes
			return nil, ctx.Err()
		}
		return shipOrder(ev), nil
	}, batpak.ReactDurable("shipping"), batpak.ReactFrom(0))
	require.NoError(t, err)
	<-onOrder3
	waitShipments(t, store, 2)
	store = batpaktest.Crash(t, store)

	// Second life: the loop resumes after its last durable acknowledgement.
	_, err = store.ReactLoop(ctx, event.AllEvents().WithKind(ordered), func(_ context.Context, ev *batpak.StoredEvent) ([]batpak.BatchItem, error) {
		count(ev)
		return shipOrder(ev), nil
	}, batpak.ReactDurable("shipping"), batpak.ReactFrom(0))
	require.NoError(t, err)
	shipments := waitShipments(t, store, 3)

	perOrder := map[string]int{}
	for _, ev := range shipments {
		perOrder[ev.Coordinate.Entity()]++
	}
	assert.Equal(t, map[string]int{"shipment:order:1": 1, "shipment:order:2": 1, "shipment:order:3": 1}, perOrder)
	assert.Equal(t, 6, store.Stats().Events, "three orders, three shipments: nothing twice")
	n, _ := calls.Load("order:1")
	assert.EqualValues(t, 2, n.(*atomic.Int32).Load(), "order 1 was reacted to in both lives: the key made the second a replay")
}
