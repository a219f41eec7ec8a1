package storetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// What every backend refuses before writing anything: a kind of a reserved
// category, a payload above the store's Limits.

// reservedKinds: every kind of the reserved categories 0x0 and 0xD — the
// library's own defined kinds included — is refused on every append path.
func (s *suite) reservedKinds(t *testing.T) {
	st := s.open(t)
	c := event.MustCoordinate("a:1", "s")
	cause := mustAppend(t, st, c, KindMoved, Moved{})
	for _, k := range []batpak.EventKind{
		0x0000, 0x0fff, 0xd000, 0xdfff, event.KindHeartbeat, event.KindCheckpoint, event.KindAck, event.KindConflict,
		event.KindBatchBegin, event.KindBatchCommit, event.KindTombstone,
	} {
		_, err := st.Append(bg, c, k, Moved{})
		assert.ErrorIs(t, err, batpak.ErrInvalidKind, "Append of %v", k)
		_, err = st.AppendWithOptions(bg, c, k, Moved{}, event.AppendOptions{IdempotencyKey: "x"})
		assert.ErrorIs(t, err, batpak.ErrInvalidKind, "AppendWithOptions of %v", k)
		_, err = st.AppendReaction(bg, c, k, Moved{}, cause.Correlation, cause.ID)
		assert.ErrorIs(t, err, batpak.ErrInvalidKind, "AppendReaction of %v", k)
		_, err = st.AppendBatch(bg, []batpak.BatchItem{{Coord: c, Kind: KindMoved, Payload: Moved{}}, {Coord: c, Kind: k, Payload: Moved{}}})
		assert.ErrorIs(t, err, batpak.ErrInvalidKind, "AppendBatch with %v", k)
	}
	assert.Len(t, collect(t, st.Query(bg, event.AllEvents())), 1, "refused appends wrote events")
}

// payloadLimit: Limits reports the bound the store's appends apply.
func (s *suite) payloadLimit(t *testing.T) {
	st := s.open(t)
	l := st.Limits()
	require.Positive(t, l.MaxPayload)
	c := event.MustCoordinate("big:1", "s")
	_, err := st.Append(bg, c, KindMoved, make([]byte, l.MaxPayload+1))
	require.ErrorIs(t, err, batpak.ErrPayloadTooLarge)
	_, err = st.Append(bg, c, KindMoved, make([]byte, l.MaxPayload))
	require.NoError(t, err, "a payload at the bound")
	enc, err := l.Encode(Moved{N: 1})
	require.NoError(t, err)
	r, err := st.Append(bg, c, KindMoved, Moved{N: 1})
	require.NoError(t, err)
	ev, err := st.Get(bg, r.ID)
	require.NoError(t, err)
	assert.Equal(t, enc.Codec, ev.Codec, "Limits' codec is the one appends use")
	assert.Equal(t, enc.Bytes, ev.Payload)
}
