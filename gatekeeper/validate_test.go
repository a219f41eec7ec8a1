package gatekeeper_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/gatekeeper"
)

var (
	passAll = gatekeeper.MustGateSet(gatekeeper.Gate[string]{Name: "any", Check: func(string) *gatekeeper.Denial { return nil }})
	why     = gatekeeper.BypassReason{Reason: "r", Justification: "j", By: "b"}
)

// Issue 22, item 7: Evaluate issued receipts for kind 0, 0x0FFF and 0xDFFF,
// which Commit then failed with ErrInvalidKind, spending the receipt. Every
// proposal a store refuses whatever its state gets no receipt, from
// Evaluate or from Bypass.
func TestNoReceiptForAProposalTheStoreWouldRefuse(t *testing.T) {
	for name, tc := range map[string]struct {
		p    gatekeeper.Proposal[string]
		want error
	}{
		"Kind0":             {gatekeeper.Propose(testCoord, 0, "x"), event.ErrReservedKind},
		"Kind0x0FFF":        {gatekeeper.Propose(testCoord, 0x0fff, "x"), event.ErrReservedKind},
		"Kind0xDFFF":        {gatekeeper.Propose(testCoord, 0xdfff, "x"), event.ErrReservedKind},
		"LibraryKind":       {gatekeeper.Propose(testCoord, event.KindHeartbeat, "x"), event.ErrReservedKind},
		"ZeroCoordinate":    {gatekeeper.Propose(event.Coordinate{}, testKind, "x"), event.ErrInvalidCoordinate},
		"LongKey":           {withOptions(gatekeeper.Propose(testCoord, testKind, "x"), event.AppendOptions{IdempotencyKey: strings.Repeat("k", 1025)}), event.ErrInvalidOption},
		"OverDefaultLimit":  {gatekeeper.Propose(testCoord, testKind, strings.Repeat("x", event.DefaultMaxPayload)), event.ErrPayloadTooLarge},
		"OverProposalLimit": {withLimits(gatekeeper.Propose(testCoord, testKind, strings.Repeat("x", 64)), event.Limits{Codec: event.CodecMsgPack, MaxPayload: 64}), event.ErrPayloadTooLarge},
		"RawCodecStore":     {withLimits(gatekeeper.Propose(testCoord, testKind, "x"), event.Limits{Codec: event.CodecRaw, MaxPayload: 64}), nil},
	} {
		r, err := gatekeeper.Evaluate(passAll, "", tc.p)
		if tc.want != nil {
			assert.ErrorIs(t, err, tc.want, "Evaluate: %s", name)
		} else {
			assert.Error(t, err, "Evaluate: %s", name)
		}
		assert.True(t, r.IsZero(), "Evaluate: %s issued a receipt", name)
		r, err = gatekeeper.Bypass(passAll, tc.p, why)
		if tc.want != nil {
			assert.ErrorIs(t, err, tc.want, "Bypass: %s", name)
		} else {
			assert.Error(t, err, "Bypass: %s", name)
		}
		assert.True(t, r.IsZero(), "Bypass: %s issued a receipt", name)
	}
	// At the bound is fine: the bound is on the encoded envelope.
	enc, err := event.DefaultLimits().Encode(gatekeeper.Envelope[string]{Version: gatekeeper.EnvelopeVersion, Payload: "x", Gates: passAll.Names()})
	require.NoError(t, err)
	exact := event.Limits{Codec: event.CodecMsgPack, MaxPayload: len(enc.Bytes)}
	r, err := gatekeeper.Evaluate(passAll, "", withLimits(gatekeeper.Propose(testCoord, testKind, "x"), exact))
	require.NoError(t, err)
	store := newFakeStore()
	_, err = gatekeeper.Commit(t.Context(), store, r)
	require.NoError(t, err)
	assert.Equal(t, enc.Bytes, store.all()[0].Payload)
}

// limitedStore is a fake store that reports limits, as both batpak stores do.
type limitedStore struct {
	*fakeStore
	limits event.Limits
}

func (s limitedStore) Limits() event.Limits { return s.limits }

// A receipt made for larger limits than the committing store's is refused
// by Commit before it is spent, and nothing is appended.
func TestCommitChecksTheStoreLimitsBeforeSpendingTheReceipt(t *testing.T) {
	r, err := gatekeeper.Evaluate(passAll, "", gatekeeper.Propose(testCoord, testKind, strings.Repeat("x", 100)))
	require.NoError(t, err)
	small := limitedStore{newFakeStore(), event.Limits{Codec: event.CodecMsgPack, MaxPayload: 64}}
	_, err = gatekeeper.Commit(t.Context(), small, r)
	require.ErrorIs(t, err, event.ErrPayloadTooLarge)
	assert.False(t, r.Spent(), "a receipt refused for the store's limits was spent")
	assert.Empty(t, small.all())

	big := limitedStore{newFakeStore(), event.Limits{Codec: event.CodecMsgPack, MaxPayload: 1 << 10}}
	_, err = gatekeeper.Commit(t.Context(), big, r)
	require.NoError(t, err)
	assert.True(t, r.Spent())
}

// A store with another codec than the proposal's gets the envelope in its
// own codec.
func TestCommitEncodesWithTheStoreCodec(t *testing.T) {
	w := withdrawal{Member: "erin", Amount: 5}
	r := evaluated(t, w)
	store := limitedStore{newFakeStore(), event.Limits{Codec: event.CodecJSON, MaxPayload: 1 << 10}}
	_, err := gatekeeper.Commit(t.Context(), store, r)
	require.NoError(t, err)
	ev := store.all()[0]
	assert.Equal(t, event.CodecJSON, ev.Codec)
	got, _, err := gatekeeper.Decode[withdrawal](ev)
	require.NoError(t, err)
	assert.Equal(t, w, got)
}

// Commit appends the envelope encoded when the gates passed: a slice of the
// payload changed after Evaluate does not reach the log.
func TestCommitAppendsWhatTheGatesSaw(t *testing.T) {
	type order struct{ Items []string }
	o := order{Items: []string{"book"}}
	gates := gatekeeper.MustGateSet(gatekeeper.Gate[order]{Name: "small", Check: func(o order) *gatekeeper.Denial {
		if len(o.Items) > 1 || o.Items[0] != "book" {
			return gatekeeper.Deny("other", "only a book")
		}
		return nil
	}})
	r, err := gatekeeper.Evaluate(gates, o, gatekeeper.Propose(testCoord, testKind, o))
	require.NoError(t, err)
	o.Items[0] = "piano"
	store := newFakeStore()
	_, err = gatekeeper.Commit(t.Context(), store, r)
	require.NoError(t, err)
	got, _, err := gatekeeper.Decode[order](store.all()[0])
	require.NoError(t, err)
	assert.Equal(t, []string{"book"}, got.Items)
}

func withOptions[T any](p gatekeeper.Proposal[T], o event.AppendOptions) gatekeeper.Proposal[T] {
	p.Options = o
	return p
}

func withLimits[T any](p gatekeeper.Proposal[T], l event.Limits) gatekeeper.Proposal[T] {
	p.Limits = l
	return p
}
