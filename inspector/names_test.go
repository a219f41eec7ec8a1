package inspector_test

import (
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/keyring"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKindNamesShown(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, f.store.KindNames().Learn(bg, kindOrder, "order.step"))
	_, srv := serve(t, f.store)
	body := page(t, srv.URL+"/event?id="+f.paid.ID.String())
	assert.Contains(t, body, `<td class="kind">order.step <span class="dim">0x2001</span>`)
	assert.Contains(t, page(t, srv.URL+"/"), `<td class="kind">order.step</td>`)
	assert.Contains(t, page(t, srv.URL+"/"), `<td class="kind">0x1001</td>`)
}

func TestShreddedPayloadShown(t *testing.T) {
	dir := t.TempDir()
	s, err := batpak.Open(dir, quiet, batpak.WithEncryption(keyring.MasterKey([32]byte{7})))
	require.NoError(t, err)
	defer s.Close()
	r, err := s.Append(bg, event.MustCoordinate("customer:1", "shop"), kindOrder, map[string]any{"secret": "x"})
	require.NoError(t, err)
	require.NoError(t, s.Shred(bg, "customer:1"))
	_, srv := serve(t, s)
	body := page(t, srv.URL+"/event?id="+r.ID.String())
	assert.Contains(t, body, "payload shredded")
	assert.NotContains(t, body, `"secret"`)
	assert.Contains(t, page(t, srv.URL+"/"), "(shredded)")
}
