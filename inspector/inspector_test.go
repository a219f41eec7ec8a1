package inspector_test

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/inspector"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPagesAnswer: every page answers 200 with HTML and the headers that
// forbid inline scripts, other origins and framing.
func TestPagesAnswer(t *testing.T) {
	f := newFixture(t)
	_, srv := serve(t, f.store)
	for _, path := range []string{
		"/", "/entities", "/scopes", "/entities?q=order", "/entity?name=player:alice", "/scope?name=shop",
		"/event?id=" + f.root.ID.String(), "/graph?c=" + f.root.Correlation.String(), "/tail",
	} {
		status, h, body := get(t, srv.URL+path)
		require.Equal(t, http.StatusOK, status, "GET %s:\n%s", path, body)
		assert.Equal(t, "text/html; charset=utf-8", h.Get("Content-Type"), path)
		csp := h.Get("Content-Security-Policy")
		assert.Contains(t, csp, "default-src 'none'", path)
		assert.Contains(t, csp, "script-src 'self'", path)
		assert.NotContains(t, csp, "unsafe-inline", path)
		assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), path)
		assert.Equal(t, "DENY", h.Get("X-Frame-Options"), path)
		assert.NotContains(t, body, "<script>", "%s has an inline script", path)
		assert.NotContains(t, body, "style=", "%s has an inline style", path)
	}
	for _, asset := range []string{"/assets/app.js", "/assets/style.css"} {
		status, _, body := get(t, srv.URL+asset)
		require.Equal(t, http.StatusOK, status, asset)
		require.NotEmpty(t, body, asset)
	}
}

// TestReadOnlyMethods: anything but GET and HEAD is refused with 405 and
// an Allow header, and changes nothing.
func TestReadOnlyMethods(t *testing.T) {
	f := newFixture(t)
	_, srv := serve(t, f.store)
	before := f.store.Stats().LastGlobal
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, "PROPFIND"} {
		for _, path := range []string{"/", "/event?id=" + f.root.ID.String(), "/tail.sse", "/nothing"} {
			req, err := http.NewRequest(method, srv.URL+path, strings.NewReader("x=1"))
			require.NoError(t, err)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, "%s %s", method, path)
			assert.Equal(t, "GET, HEAD", resp.Header.Get("Allow"), "%s %s", method, path)
		}
	}
	req, err := http.NewRequest(http.MethodHead, srv.URL+"/", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, before, f.store.Stats().LastGlobal)
}

// TestUserDataEscaped: an entity, a scope and a payload written to break
// out of HTML show as text on every page that shows them.
func TestUserDataEscaped(t *testing.T) {
	f := newFixture(t)
	_, srv := serve(t, f.store)
	for _, path := range []string{
		"/", "/entities", "/scopes", "/tail",
		"/entities?q=" + url.QueryEscape("<script>"),
		"/entity?name=" + url.QueryEscape(hostileEntity),
		"/scope?name=" + url.QueryEscape(hostileScope),
		"/event?id=" + f.hostile.ID.String(),
	} {
		body := page(t, srv.URL+path)
		for _, raw := range []string{hostileEntity, hostilePayload, hostileScope, "<img", "<svg onload"} {
			assert.NotContains(t, body, raw, "%s shows %q unescaped", path, raw)
		}
	}
	ev := page(t, srv.URL+"/event?id="+f.hostile.ID.String())
	assert.Contains(t, ev, html.EscapeString(hostileEntity))
	assert.Contains(t, ev, html.EscapeString(hostileScope))
	// The payload is shown as JSON text: the quotes inside are escaped
	// once for JSON, then the whole for HTML.
	assert.Contains(t, ev, "&lt;img src=x onerror=")

	// Names given in a URL (the search box, a page's parameter) are user
	// data too.
	body := page(t, srv.URL+"/entities?q="+url.QueryEscape(`"><script>alert(1)</script>`))
	assert.NotContains(t, body, "<script>alert(1)")
	status, _, body := get(t, srv.URL+"/event?id="+url.QueryEscape("<b>bold</b>"))
	assert.Equal(t, http.StatusBadRequest, status)
	assert.NotContains(t, body, "<b>bold</b>")
	assert.Contains(t, body, "&lt;b&gt;bold&lt;/b&gt;")
}

// TestEventPage: the header, the decoded payload, the hash, and the links
// to the cause, the effects and the workflow.
func TestEventPage(t *testing.T) {
	f := newFixture(t)
	_, srv := serve(t, f.store)
	body := page(t, srv.URL+"/event?id="+f.paid.ID.String())
	text := html.UnescapeString(body)
	ev, err := f.store.Get(bg, f.paid.ID)
	require.NoError(t, err)
	assert.Contains(t, text, "{\n  \"step\": \"paid\"\n}", "the MessagePack payload as indented JSON")
	assert.Contains(t, text, fmt.Sprintf("%x", ev.Hash.Self[:]))
	assert.Contains(t, text, `id="cause-link" href="event?id=`+f.root.ID.String()+`"`)
	assert.Contains(t, text, `class="effect-link" href="event?id=`+f.shipped.ID.String()+`"`)
	assert.Contains(t, text, `class="effect-link" href="event?id=`+f.mailed.ID.String()+`"`)
	assert.NotContains(t, text, `href="event?id=`+f.refund.ID.String()+`"`, "refund is not paid's effect")
	assert.Contains(t, text, `href="graph?c=`+f.root.Correlation.String()+`&e=`+f.paid.ID.String()+`"`)
	assert.Equal(t, []string{"payment:1"}, linksTo(body, "entity?name="))
	assert.Contains(t, text, "<td class=\"kind\">0x2001")
	assert.Contains(t, text, "5 events") // root, paid, shipped, mailed, refund

	// JSON as stored (no rounding of 2^53+1), indented.
	body = page(t, srv.URL+"/event?id="+f.json.ID.String())
	assert.Contains(t, html.UnescapeString(body), `"big": 9007199254740993,`)

	// Raw bytes as a hex dump, their printable bytes escaped.
	body = page(t, srv.URL+"/event?id="+f.raw.ID.String())
	assert.Contains(t, body, "de ad be ef 3c 3e")
	assert.Contains(t, body, "|....&lt;&gt;|")

	// A cause the store does not hold is named, not linked.
	body = page(t, srv.URL+"/event?id="+f.orphan.ID.String())
	assert.Contains(t, body, f.missing.String())
	assert.Contains(t, body, "not in the store")
	assert.NotContains(t, body, `id="cause-link"`)
}

// TestNotFoundAndBadRequests: unknown ids, entities, scopes and pages are
// 404; malformed parameters 400.
func TestNotFoundAndBadRequests(t *testing.T) {
	f := newFixture(t)
	_, srv := serve(t, f.store)
	for path, want := range map[string]int{
		"/event?id=" + event.NewID().String(): http.StatusNotFound,
		"/entity?name=nobody":                 http.StatusNotFound,
		"/scope?name=nowhere":                 http.StatusNotFound,
		"/graph?c=" + event.NewID().String():  http.StatusNotFound,
		"/no/such/page":                       http.StatusNotFound,
		"/event?id=12":                        http.StatusBadRequest,
		"/event":                              http.StatusBadRequest,
		"/graph":                              http.StatusBadRequest,
		"/entity?name=player:alice&before=x":  http.StatusBadRequest,
		"/scope?name=shop&after=-1":           http.StatusBadRequest,
		"/tail.sse?after=soon":                http.StatusBadRequest,
	} {
		status, _, body := get(t, srv.URL+path)
		assert.Equal(t, want, status, "GET %s:\n%s", path, body)
	}
}

// TestEntityPaging: an entity's events newest first, a page at a time,
// with links to older and newer pages that cover every event once.
func TestEntityPaging(t *testing.T) {
	dir := t.TempDir()
	s, err := batpak.Open(dir, quiet, batpak.WithDurability(batpak.OnWrite))
	require.NoError(t, err)
	defer s.Close()
	for i := range 23 {
		_, err := s.Append(bg, event.MustCoordinate("counter", "c"), kindMoved, map[string]any{"n": i})
		require.NoError(t, err)
	}
	_, srv := serve(t, s, inspector.WithPageSize(10))
	var seen []string
	next := "/entity?name=counter"
	for next != "" {
		body := page(t, srv.URL+next)
		seen = append(seen, rowsOf(body)...)
		if next = linkAfter(body, `rel="next"`); next != "" {
			next = "/" + next
		}
	}
	want := make([]string, 0, 23)
	for g := 23; g >= 1; g-- {
		want = append(want, fmt.Sprint(g))
	}
	require.Equal(t, want, seen)

	// The newer link of the oldest page leads back a page.
	body := page(t, srv.URL+"/entity?name=counter&before=3")
	require.Equal(t, []string{"3", "2", "1"}, rowsOf(body))
	require.Equal(t, "entity?name=counter&before=13", linkAfter(body, `rel="prev"`))
}

// TestScopePaging: a scope's events oldest first, a page at a time, the
// next-page links covering every event once; the scope's events only.
func TestScopePaging(t *testing.T) {
	dir := t.TempDir()
	s, err := batpak.Open(dir, quiet, batpak.WithDurability(batpak.OnWrite))
	require.NoError(t, err)
	defer s.Close()
	var want []string
	for i := range 46 {
		scope := []string{"room:hall", "room:cave"}[i%2]
		r, err := s.Append(bg, event.MustCoordinate(fmt.Sprintf("player:%d", i%5), scope), kindMoved, map[string]any{"n": i})
		require.NoError(t, err)
		if scope == "room:hall" {
			want = append(want, fmt.Sprint(r.Global))
		}
	}
	_, srv := serve(t, s, inspector.WithPageSize(10))
	var seen []string
	pages := 0
	next := "/scope?name=room:hall"
	for next != "" {
		body := page(t, srv.URL+next)
		pages++
		seen = append(seen, rowsOf(body)...)
		if next = linkAfter(body, `rel="next"`); next != "" {
			next = "/" + next
		}
	}
	require.Equal(t, want, seen)
	require.Equal(t, 3, pages, "23 events, 10 a page")
}

// TestNamesEndingInStar: an entity or scope whose name ends in '*' is a
// name like any other: its page lists its own events, not those of every
// name it is a prefix of (as event.ForEntity would read it).
func TestNamesEndingInStar(t *testing.T) {
	dir := t.TempDir()
	s, err := batpak.Open(dir, quiet, batpak.WithDurability(batpak.OnWrite))
	require.NoError(t, err)
	defer s.Close()
	star, err := s.Append(bg, event.MustCoordinate("player*", "room*"), kindMoved, nil)
	require.NoError(t, err)
	for _, c := range []event.Coordinate{event.MustCoordinate("player:1", "room:1"), event.MustCoordinate("player:2", "room:2")} {
		_, err := s.Append(bg, c, kindMoved, nil)
		require.NoError(t, err)
	}
	_, srv := serve(t, s)
	want := []string{fmt.Sprint(star.Global)}
	assert.Equal(t, want, rowsOf(page(t, srv.URL+"/entity?name="+url.QueryEscape("player*"))))
	assert.Equal(t, want, rowsOf(page(t, srv.URL+"/scope?name="+url.QueryEscape("room*"))))
}

// TestNamesSearchAndPaging: names sorted, searched case-insensitively, a
// page at a time.
func TestNamesSearchAndPaging(t *testing.T) {
	dir := t.TempDir()
	s, err := batpak.Open(dir, quiet, batpak.WithDurability(batpak.OnWrite))
	require.NoError(t, err)
	defer s.Close()
	for i := range 25 {
		_, err := s.Append(bg, event.MustCoordinate(fmt.Sprintf("Player:%02d", i), "room"), kindMoved, nil)
		require.NoError(t, err)
	}
	_, err = s.Append(bg, event.MustCoordinate("npc:gate", "room"), kindMoved, nil)
	require.NoError(t, err)
	_, srv := serve(t, s, inspector.WithPageSize(10))

	var names []string
	next := "/entities?q=player"
	for next != "" {
		body := page(t, srv.URL+next)
		assert.Contains(t, body, "25 of 26 entities")
		names = append(names, linksTo(body, "entity?name=")...)
		if n := linkAfter(body, `rel="next"`); n != "" {
			next = "/entities" + n
		} else {
			next = ""
		}
	}
	require.Len(t, names, 25)
	for i, n := range names {
		require.Equal(t, fmt.Sprintf("Player:%02d", i), n)
	}
	body := page(t, srv.URL+"/scopes")
	require.Equal(t, []string{"room"}, linksTo(body, "scope?name="))
}

// TestMountedUnderPrefix: mounted with StripPrefix beside other handlers,
// its relative links work, and the prefix without its slash redirects.
func TestMountedUnderPrefix(t *testing.T) {
	f := newFixture(t)
	in := inspector.New(f.store)
	defer in.Close()
	mux := http.NewServeMux()
	mux.Handle("/debug/batpak/", http.StripPrefix("/debug/batpak", in))
	mux.HandleFunc("/debug/other", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "other") })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	body := page(t, srv.URL+"/debug/batpak/")
	assert.Contains(t, body, `href="assets/style.css"`)
	for _, link := range []string{"entities", "assets/style.css", "assets/app.js", "tail"} {
		page := srv.URL + "/debug/batpak/" + link
		status, _, _ := get(t, page)
		assert.Equal(t, http.StatusOK, status, page)
	}
	// Asked for without the slash (a mux that passes it on, or StripPrefix
	// of the exact path): redirected to the slash.
	direct := httptest.NewServer(http.StripPrefix("/debug/batpak", in))
	defer direct.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(direct.URL + "/debug/batpak")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Equal(t, "/debug/batpak/", resp.Header.Get("Location"))
}

// TestClosedInspectorRefuses: after Close, every page is 503.
func TestClosedInspectorRefuses(t *testing.T) {
	f := newFixture(t)
	in, srv := serve(t, f.store)
	require.NoError(t, in.Close())
	require.NoError(t, in.Close(), "Close is idempotent")
	status, _, _ := get(t, srv.URL+"/")
	assert.Equal(t, http.StatusServiceUnavailable, status)
}

// TestStoreClosedUnder: pages of a store closed under the inspector say
// so with 503, not a panic or a 500.
func TestStoreClosedUnder(t *testing.T) {
	f := newFixture(t)
	_, srv := serve(t, f.store)
	require.NoError(t, f.store.Close())
	for _, path := range []string{"/", "/event?id=" + f.root.ID.String(), "/entity?name=order:1", "/tail.sse?after=0"} {
		status, _, body := get(t, srv.URL+path)
		assert.Equal(t, http.StatusServiceUnavailable, status, "GET %s:\n%s", path, body)
	}
}

// rowsOf returns the global sequences of an event table's rows, in order.
func rowsOf(body string) []string {
	var gs []string
	for _, part := range strings.Split(body, `<tr data-global="`)[1:] {
		g, _, _ := strings.Cut(part, `"`)
		gs = append(gs, g)
	}
	return gs
}

// linkAfter returns the unescaped href of the link holding attr, "" if
// none.
func linkAfter(body, attr string) string {
	i := strings.Index(body, attr)
	if i < 0 {
		return ""
	}
	start := strings.LastIndex(body[:i], `href="`)
	href, _, _ := strings.Cut(body[start+len(`href="`):], `"`)
	return html.UnescapeString(href)
}

// linksTo returns the unescaped values of the links starting with prefix.
func linksTo(body, prefix string) []string {
	var vs []string
	for _, part := range strings.Split(body, `href="`+prefix)[1:] {
		v, _, _ := strings.Cut(part, `"`)
		v, _ = url.QueryUnescape(html.UnescapeString(v))
		vs = append(vs, v)
	}
	return vs
}
