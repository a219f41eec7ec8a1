package inspector_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/inspector"
	"github.com/stretchr/testify/require"
)

var (
	bg        = context.Background()
	quiet     = batpak.WithLogger(slog.New(slog.DiscardHandler))
	kindMoved = event.MustCustom(1, 1) // 0x1001
	kindOrder = event.MustCustom(2, 1) // 0x2001
)

// The hostile strings of the escaping tests: were any of them parsed as
// HTML, a script would run and set window.pwned.
const (
	hostileEntity  = `<script>window.pwned=1</script>`
	hostilePayload = `"><img src=x onerror="window.pwned=2">`
	hostileScope   = `room:'><svg onload=window.pwned=3>`
)

// fixture is a store with a workflow (root → paid → shipped, mailed; and
// refund, caused by an event of another workflow), an event caused by an
// id the store does not hold, payloads of each codec, and hostile names.
type fixture struct {
	dir                                                                    string
	store                                                                  *batpak.Store
	root, paid, shipped, mailed, other, refund, orphan, raw, json, hostile batpak.Receipt
	missing                                                                batpak.ID // the orphan's cause, not in the store
}

func newFixture(t *testing.T, opts ...batpak.Option) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir()}
	s, err := batpak.Open(f.dir, append([]batpak.Option{quiet}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	f.store = s
	must := func(r batpak.Receipt, err error) batpak.Receipt {
		t.Helper()
		require.NoError(t, err)
		return r
	}
	c := event.MustCoordinate
	for i := range 3 {
		must(s.Append(bg, c("player:alice", "room:hall"), kindMoved, map[string]any{"step": i, "to": "hall"}))
	}
	f.root = must(s.Append(bg, c("order:1", "shop"), kindOrder, map[string]any{"step": "placed", "total": 42}))
	f.paid = must(s.AppendReaction(bg, c("payment:1", "shop"), kindOrder, map[string]any{"step": "paid"}, f.root.Correlation, f.root.ID))
	f.shipped = must(s.AppendReaction(bg, c("shipping:1", "shop"), kindOrder, map[string]any{"step": "shipped"}, f.root.Correlation, f.paid.ID))
	f.mailed = must(s.AppendReaction(bg, c("mail:1", "shop"), kindOrder, map[string]any{"step": "mailed"}, f.root.Correlation, f.paid.ID))
	f.other = must(s.Append(bg, c("audit:1", "shop"), kindOrder, map[string]any{"step": "audit"}))
	f.refund = must(s.AppendReaction(bg, c("payment:1", "shop"), kindOrder, map[string]any{"step": "refund"}, f.root.Correlation, f.other.ID))
	f.missing = event.NewID()
	f.orphan = must(s.AppendWithOptions(bg, c("order:2", "shop"), kindOrder, map[string]any{"step": "orphan"},
		batpak.AppendOptions{Causation: f.missing}))
	f.raw = must(s.Append(bg, c("blob:1", "misc"), kindMoved, []byte{0xde, 0xad, 0xbe, 0xef, '<', '>'}))
	f.hostile = must(s.Append(bg, c(hostileEntity, hostileScope), kindMoved, map[string]any{"name": hostilePayload, hostilePayload: "key"}))
	require.NoError(t, s.Close())

	// The JSON event, in a session configured for JSON payloads.
	s, err = batpak.Open(f.dir, quiet, batpak.WithCodec(batpak.JSON))
	require.NoError(t, err)
	f.json = must(s.Append(bg, c("json:1", "misc"), kindMoved, map[string]any{"big": uint64(9007199254740993), "tag": "<b>"}))
	require.NoError(t, s.Close())

	f.store, err = batpak.Open(f.dir, append([]batpak.Option{quiet}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.store.Close() })
	return f
}

// serve starts the inspector of s on a test server and closes both when
// the test ends.
func serve(t *testing.T, s *batpak.Store, opts ...inspector.Option) (*inspector.Inspector, *httptest.Server) {
	t.Helper()
	in := inspector.New(s, opts...)
	srv := httptest.NewServer(in)
	t.Cleanup(func() {
		_ = in.Close()
		srv.Close()
	})
	return in, srv
}

// get fetches url and returns its status, headers and body.
func get(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(b)
}

// page fetches a page that must answer 200 and returns its body.
func page(t *testing.T, url string) string {
	t.Helper()
	status, h, body := get(t, url)
	require.Equal(t, http.StatusOK, status, "GET %s:\n%s", url, body)
	require.True(t, strings.HasPrefix(h.Get("Content-Type"), "text/html"), h.Get("Content-Type"))
	return body
}
