package batpak_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// reservedKinds are kinds of the reserved categories: kind 0, the edges of
// both categories, and every kind the library defines for itself.
var reservedKinds = []batpak.EventKind{
	0x0000, 0x0fff, 0xd000, 0xdfff,
	event.KindInit, event.KindShutdown, event.KindHeartbeat, event.KindConfigChange, event.KindCheckpoint,
	event.KindBatchBegin, event.KindBatchCommit, event.KindTombstone,
	event.KindError, event.KindRetry, event.KindAck, event.KindBackpressure, event.KindCancel, event.KindConflict,
}

// Issue 22, item 6: ErrInvalidKind is documented for every kind of a
// reserved category appended through the public API, but the library's own
// defined kinds (KindHeartbeat, KindConflict, …) were let through.
func TestLibraryKindsAreRefusedOnEveryPublicAppendPath(t *testing.T) {
	s := openStore(t, t.TempDir())
	c := coord(t, "e", "s")
	other := coord(t, "f", "s")
	cause := mustAppend(t, s, c, kindMoved, payload{N: 1})

	paths := map[string]func(k batpak.EventKind) error{
		"Append": func(k batpak.EventKind) error {
			_, err := s.Append(bg, c, k, payload{})
			return err
		},
		"AppendWithOptions": func(k batpak.EventKind) error {
			_, err := s.AppendWithOptions(bg, c, k, payload{}, batpak.AppendOptions{IdempotencyKey: "k"})
			return err
		},
		"AppendReaction": func(k batpak.EventKind) error {
			_, err := s.AppendReaction(bg, c, k, payload{}, cause.Correlation, cause.ID)
			return err
		},
		"Submit": func(k batpak.EventKind) error {
			_, err := s.Submit(bg, c, k, payload{}, batpak.AppendOptions{})
			return err
		},
		"AppendBatch": func(k batpak.EventKind) error {
			_, err := s.AppendBatch(bg, []batpak.BatchItem{
				{Coord: other, Kind: kindMoved, Payload: payload{}},
				{Coord: c, Kind: k, Payload: payload{}},
			})
			return err
		},
		"SubmitBatch": func(k batpak.EventKind) error {
			_, err := s.SubmitBatch(bg, []batpak.BatchItem{{Coord: c, Kind: k, Payload: payload{}}}, batpak.DefaultDurability)
			return err
		},
		"AppendReactionBatch": func(k batpak.EventKind) error {
			_, err := s.AppendReactionBatch(bg, cause.Correlation, cause.ID, []batpak.BatchItem{{Coord: c, Kind: k, Payload: payload{}}})
			return err
		},
	}
	for name, appendKind := range paths {
		for _, k := range reservedKinds {
			err := appendKind(k)
			assert.ErrorIs(t, err, batpak.ErrInvalidKind, "%s of kind %v", name, k)
		}
	}
	assert.Equal(t, 1, s.Stats().Events, "events written by refused appends")
	for _, k := range reservedKinds {
		assert.ErrorIs(t, event.CheckKind(k), event.ErrReservedKind, "CheckKind(%v)", k)
	}
	// The first and last kinds of user categories pass.
	for _, k := range []batpak.EventKind{0x1000, 0xcfff, 0xe000, 0xffff} {
		_, err := s.Append(bg, c, k, payload{})
		require.NoError(t, err, "kind %v", k)
	}
}

// A react loop appends what its reactor returns through AppendReactionBatch:
// a reactor returning a library kind fails the loop with ErrInvalidKind and
// writes nothing.
func TestReactLoopCannotAppendLibraryKinds(t *testing.T) {
	s := subOpen(t, t.TempDir())
	ctx := subGuard(t)
	loop, err := s.ReactLoop(ctx, event.AllEvents().WithKind(subKind), func(_ context.Context, ev *batpak.StoredEvent) ([]batpak.BatchItem, error) {
		return []batpak.BatchItem{{Coord: ev.Coordinate, Kind: event.KindAck, Payload: 1}}, nil
	}, batpak.ReactRestart(batpak.RestartPolicy{}))
	require.NoError(t, err)
	_, err = s.Append(ctx, event.MustCoordinate("x", "y"), subKind, 1)
	require.NoError(t, err)
	// Either the loop fails, or the reaction becomes visible as event 2.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	written := make(chan struct{})
	go func() {
		if s.WaitVisible(wctx, 2) == nil {
			close(written)
		}
	}()
	select {
	case <-loop.Done():
	case <-written:
		require.FailNow(t, "the reaction of a library kind was appended")
	}
	require.ErrorIs(t, loop.Err(), batpak.ErrInvalidKind)
	assert.Equal(t, 1, s.Stats().Events)
}
