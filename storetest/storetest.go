package storetest

import (
	"context"
	"iter"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// Factory opens a fresh, empty store for one subtest and arranges (with
// t.Cleanup) for whatever it started to be released when the subtest ends.
type Factory func(t *testing.T) batpak.EventStore

// Reopener closes s and opens the same store again, as a restart would.
type Reopener func(t *testing.T, s batpak.EventStore) batpak.EventStore

// Option configures Run.
type Option func(*config)

type config struct {
	reopen Reopener
	wait   time.Duration
}

// WithReopen lets the suite check that durable cursors and durable react
// loops survive a restart. Without it those tests reopen the cursor (or
// restart the loop) on the same store.
func WithReopen(fn Reopener) Option { return func(c *config) { c.reopen = fn } }

// WithWaitLimit bounds how long a test waits for a live event (a cursor's
// Next, a subscription's Recv) before failing (default 20 s). It is a
// failure bound only: no test depends on timing to pass.
func WithWaitLimit(d time.Duration) Option { return func(c *config) { c.wait = d } }

// Run runs the suite against the backend open returns.
func Run(t *testing.T, open Factory, opts ...Option) {
	cfg := config{wait: 20 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	s := &suite{open: open, cfg: cfg}
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"RoundTrip", s.roundTrip},
		{"ReadPaths", s.readPaths},
		{"Sequences", s.sequences},
		{"ExpectedSequence", s.expectedSequence},
		{"Idempotency", s.idempotency},
		{"IdempotencyOtherEvent", s.idempotencyOtherEvent},
		{"BatchRetryShape", s.batchRetryShape},
		{"Batch", s.batch},
		{"BatchAllOrNothing", s.batchAllOrNothing},
		{"BatchInvalid", s.batchInvalid},
		{"Reaction", s.reaction},
		{"NotFound", s.notFound},
		{"InvalidInput", s.invalidInput},
		{"PositionBounds", s.positionBounds},
		{"ReservedKinds", s.reservedKinds},
		{"PayloadLimit", s.payloadLimit},
		{"Cursor", s.cursor},
		{"DurableCursor", s.durableCursor},
		{"BatchesStayWhole", s.batchesStayWhole},
		{"HeadBetweenBatches", s.headBetweenBatches},
		{"Subscription", s.subscription},
		{"Projection", s.projection},
		{"FacadeProjection", s.facadeProjection},
		{"Submit", s.submit},
		{"ReactionBatch", s.reactionBatch},
		{"ByCorrelation", s.byCorrelation},
		{"WalkAncestors", s.walkAncestors},
		{"WaitVisible", s.waitVisible},
		{"CatchUp", s.catchUp},
		{"ReactLoop", s.reactLoop},
		{"ReactLoopFails", s.reactLoopFails},
		{"ReactLoopDurable", s.reactLoopDurable},
		{"Snapshot", s.snapshot},
		{"ScopeRegions", s.scopeRegions},
		{"AsOf", s.asOf},
		{"TypedKinds", s.typedKinds},
		{"KindNames", s.kindNames},
		{"Closed", s.closed},
	} {
		t.Run(tc.name, tc.fn)
	}
}

type suite struct {
	open Factory
	cfg  config
}

// Kinds of the suite: user categories only.
var (
	KindMoved = event.MustCustom(0x1, 0x001)
	KindSpoke = event.MustCustom(0x1, 0x002)
	KindOther = event.MustCustom(0x2, 0x001)
)

// Moved is the payload most tests append.
type Moved struct {
	From string `msgpack:"from" json:"from"`
	To   string `msgpack:"to" json:"to"`
	N    int    `msgpack:"n" json:"n"`
}

var bg = context.Background()

// waitCtx is the context of one wait for a live event.
func (s *suite) waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(bg, s.cfg.wait)
	t.Cleanup(cancel)
	return ctx
}

func mustAppend(t *testing.T, st batpak.EventStore, c batpak.Coordinate, k batpak.EventKind, p any) batpak.Receipt {
	t.Helper()
	r, err := st.Append(bg, c, k, p)
	require.NoError(t, err, "Append(%v, %v)", c, k)
	return r
}

// collect drains a query, failing the test on an error.
func collect(t *testing.T, seq iter.Seq2[*batpak.StoredEvent, error]) []*batpak.StoredEvent {
	t.Helper()
	var out []*batpak.StoredEvent
	for ev, err := range seq {
		require.NoError(t, err, "query")
		out = append(out, ev)
	}
	return out
}

// globals lists the events' global sequences.
func globals(evs []*batpak.StoredEvent) []uint64 {
	out := make([]uint64, len(evs))
	for i, ev := range evs {
		out[i] = ev.Global
	}
	return out
}

func receiptGlobals(rs ...batpak.Receipt) []uint64 {
	out := make([]uint64, len(rs))
	for i, r := range rs {
		out[i] = r.Global
	}
	return out
}

// sameEvent checks that ev is the event r acknowledged.
func sameEvent(t *testing.T, what string, ev *batpak.StoredEvent, r batpak.Receipt) {
	t.Helper()
	require.Equal(t, r.ID, ev.ID, "%s: the event's id", what)
	assert.Equal(t, r.Global, ev.Global, "%s: global sequence", what)
	assert.Equal(t, r.Sequence, ev.Sequence, "%s: sequence", what)
	assert.Equal(t, r.Coordinate, ev.Coordinate, "%s: coordinate", what)
	assert.Equal(t, r.Kind, ev.Kind, "%s: kind", what)
	assert.Equal(t, r.Correlation, ev.Correlation, "%s: correlation", what)
	assert.Equal(t, r.Causation, ev.Causation, "%s: causation", what)
	if r.Hash != ([32]byte{}) {
		assert.Equal(t, r.Hash, ev.Hash.Self, "%s: the hash the receipt gave", what)
	}
}

// decodeMoved decodes ev's payload, failing the test on an error.
func decodeMoved(t *testing.T, ev *batpak.StoredEvent) Moved {
	t.Helper()
	m, err := batpak.Decode[Moved](ev)
	require.NoError(t, err, "Decode")
	return m
}
