package batpak_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/gatekeeper"
)

// The gatekeeper and the store agree on what can be appended (issue 22,
// item 7): a receipt is never issued for, nor spent on, an append the store
// refuses.
func TestGatekeeperReceiptsDescribeAppendsTheStoreAccepts(t *testing.T) {
	s := openStore(t, t.TempDir(), batpak.WithMaxPayload(256))
	gates := gatekeeper.MustGateSet(gatekeeper.Gate[string]{Name: "any", Check: func(string) *gatekeeper.Denial { return nil }})
	c := coord(t, "vault:1", "bank")

	for _, k := range []batpak.EventKind{0, 0x0fff, 0xdfff} {
		r, err := gatekeeper.Evaluate(gates, "", gatekeeper.Propose(c, k, "x"))
		require.ErrorIs(t, err, batpak.ErrInvalidKind, "kind %v", k)
		assert.True(t, r.IsZero())
	}

	big := strings.Repeat("x", 1024)
	p := gatekeeper.Propose(c, kindMoved, big)
	p.Limits = s.Limits()
	_, err := gatekeeper.Evaluate(gates, "", p)
	require.ErrorIs(t, err, batpak.ErrPayloadTooLarge, "proposal checked against the store's limits")

	// Evaluated for the default limits, committed to this store: refused by
	// Commit, unspent.
	r, err := gatekeeper.Evaluate(gates, "", gatekeeper.Propose(c, kindMoved, big))
	require.NoError(t, err)
	_, err = gatekeeper.Commit(bg, s, r)
	require.ErrorIs(t, err, batpak.ErrPayloadTooLarge)
	assert.False(t, r.Spent())

	p = gatekeeper.Propose(c, kindMoved, "small")
	p.Limits = s.Limits()
	r, err = gatekeeper.Evaluate(gates, "", p)
	require.NoError(t, err)
	done, err := gatekeeper.Commit(bg, s, r)
	require.NoError(t, err)
	ev, err := s.Get(bg, done.ID)
	require.NoError(t, err)
	got, audit, err := gatekeeper.Decode[string](ev)
	require.NoError(t, err)
	assert.Equal(t, "small", got)
	assert.Equal(t, []string{"any"}, audit.Gates)
	assert.Equal(t, 1, s.Stats().Events)
}
