package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/inspector"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// The inspector's pages in a real headless Chromium, driven over the
// DevTools protocol (chromedp). Chromium comes from the system's packages
// (Debian's chromium, which .ci/run installs when missing); set
// BATPAK_CHROMIUM to use another executable. These tests do not skip when
// it is missing: they fail, saying how to install it.

// chromiumPath finds the browser.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("BATPAK_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium found: install it (Debian: apt-get install chromium) or set BATPAK_CHROMIUM to its executable")
	return ""
}

// browser starts a headless Chromium with a fresh profile, and returns the
// context of a tab in it. The browser is stopped when the test ends.
func browser(t *testing.T) context.Context {
	t.Helper()
	actx, acancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		acancel() // waits for the browser to exit
	})
	require.NoError(t, chromedp.Do(ctx), "starting Chromium")
	return ctx
}

// do runs actions in the tab, failing the test if they fail or take
// longer than the deadline (a click waits for its element, without end
// if it never comes).
func do(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, actions...))
}

// open navigates to url and waits until the page has loaded.
func open(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(url))
	waitJS(t, ctx, `document.readyState === "complete"`)
}

// follow clicks the element sel (a link) and waits until the page it
// leads to has loaded and its URL contains want.
func follow(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	do(t, ctx, chromedp.Click(chromedp.CSS(sel)))
	waitJS(t, ctx, fmt.Sprintf(`location.href.includes(%q) && document.readyState === "complete"`, want))
}

// js evaluates expr in the page and decodes its value.
func js[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, "evaluate %s", expr)
	return v
}

// waitJS polls expr in the page until it is true, failing the test after
// a generous deadline. (chromedp.Poll builds its predicate with new
// Function, which the inspector's Content-Security-Policy rightly forbids,
// so the polling is done from here.)
func waitJS(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	end := time.Now().Add(deadline)
	wctx, cancel := context.WithDeadline(ctx, end) // an evaluation that hangs ends too
	defer cancel()
	for {
		ok, err := chromedp.Run(wctx, chromedp.Evaluate[bool](`!!(`+expr+`)`))
		if err == nil && ok {
			return
		}
		if time.Now().After(end) {
			lctx, lcancel := context.WithTimeout(ctx, time.Second)
			url, _ := chromedp.Run(lctx, chromedp.Location())
			lcancel()
			t.Fatalf("waited in vain on %s for %s (last error: %v)", url, expr, err)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, not synchronising
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return js[string](t, ctx, fmt.Sprintf(`document.querySelector(%q)?.textContent ?? ""`, sel))
}

// TestBrowserFollowsLinks: the inspector mounted in a program beside its
// other handlers, browsed as a person would: the overview, the entities,
// an entity, an event and its payload, its effect and back to its cause,
// the workflow graph drawn as SVG, and a node of the graph to its event.
func TestBrowserFollowsLinks(t *testing.T) {
	dir := t.TempDir()
	s := openWriter(t, dir)
	w := writeWorkflow(t, s)
	base := serveProgram(t, s)
	ctx := browser(t)

	open(t, ctx, base)
	require.Equal(t, "Overview", text(t, ctx, "h1"))
	require.Equal(t, "7", text(t, ctx, ".card .figure"), "the events card")

	follow(t, ctx, `nav a[href="entities"]`, "/debug/batpak/entities")
	names := js[[]string](t, ctx, `[...document.querySelectorAll("table.names td:first-child a")].map(a => a.textContent)`)
	require.Equal(t, []string{"mail:1", "order:1", "payment:1", "player:alice", "player:bob", "shipping:1"}, names)

	// The search box: typed into and submitted as a person would.
	do(t, ctx, chromedp.SendKeys(`form.search input[name="q"]`, "PLAY"))
	follow(t, ctx, `form.search button[type="submit"]`, "entities?q=PLAY")
	names = js[[]string](t, ctx, `[...document.querySelectorAll("table.names td:first-child a")].map(a => a.textContent)`)
	require.Equal(t, []string{"player:alice", "player:bob"}, names, "case folded")
	require.Equal(t, "2 of 6 entities", text(t, ctx, "form.search .count"))
	follow(t, ctx, `nav a[href="entities"]`, "/debug/batpak/entities")

	follow(t, ctx, `table.names a[href="entity?name=order%3a1"]`, "entity?name=order")
	follow(t, ctx, fmt.Sprintf(`tr[data-global="%d"] a[href^="event?id="]`, w.placed.Global), w.placed.ID.String())
	require.Contains(t, text(t, ctx, "#payload"), `"step": "placed"`)

	follow(t, ctx, fmt.Sprintf(`a.effect-link[href="event?id=%s"]`, w.paid.ID), w.paid.ID.String())
	require.Contains(t, text(t, ctx, "#payload"), `"step": "paid"`)
	effects := js[int](t, ctx, `document.querySelectorAll("a.effect-link").length`)
	require.Equal(t, 2, effects, "shipped and mailed")

	follow(t, ctx, "#cause-link", w.placed.ID.String())
	open(t, ctx, base+"event?id="+w.paid.ID.String())
	follow(t, ctx, "#graph-link", "graph?c=")
	waitJS(t, ctx, `document.querySelector("#graph").dataset.state === "drawn"`)
	nodes := js[[]string](t, ctx, `[...document.querySelectorAll("#graph svg g.node")].map(g => g.dataset.id)`)
	require.ElementsMatch(t, []string{w.placed.ID.String(), w.paid.ID.String(), w.shipped.ID.String(), w.mailed.ID.String()}, nodes)
	edges := js[[]string](t, ctx, `[...document.querySelectorAll("#graph svg path.edge")].map(p => p.dataset.from + ">" + p.dataset.to)`)
	require.ElementsMatch(t, []string{
		w.placed.ID.String() + ">" + w.paid.ID.String(),
		w.paid.ID.String() + ">" + w.shipped.ID.String(),
		w.paid.ID.String() + ">" + w.mailed.ID.String(),
	}, edges)
	marked := js[string](t, ctx, `document.querySelector("#graph g.node.marked")?.dataset.id ?? ""`)
	require.Equal(t, w.paid.ID.String(), marked)
	// The drawing is laid out: every node inside the picture, none on
	// another.
	boxes := js[[][4]float64](t, ctx, `[...document.querySelectorAll("#graph g.node rect")].map(r => { const b = r.getBoundingClientRect(); return [b.x, b.y, b.width, b.height]; })`)
	require.Len(t, boxes, 4)
	for i, a := range boxes {
		require.Positive(t, a[2])
		for _, b := range boxes[i+1:] {
			overlap := a[0] < b[0]+b[2] && b[0] < a[0]+a[2] && a[1] < b[1]+b[3] && b[1] < a[1]+a[3]
			require.False(t, overlap, "nodes %v and %v overlap", a, b)
		}
	}
	follow(t, ctx, fmt.Sprintf(`#graph g.node[data-id="%s"] rect`, w.shipped.ID), w.shipped.ID.String())
	require.Contains(t, text(t, ctx, "#payload"), `"step": "shipped"`)
}

// serveProgram serves a program's debug mux on loopback: the inspector of
// s at /debug/batpak/ beside another handler. It returns the inspector's
// URL. When the test ends the inspector is closed first, ending its live
// tails, which the server's Close would wait for.
func serveProgram(t *testing.T, s *batpak.Store) string {
	t.Helper()
	in := inspector.New(s)
	mux := http.NewServeMux()
	mux.Handle("/debug/batpak/", http.StripPrefix("/debug/batpak", in))
	mux.HandleFunc("/debug/vars", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]int{"other": 1})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		_ = in.Close()
		srv.Close()
	})
	return srv.URL + "/debug/batpak/"
}

// TestBrowserLiveTail: the live tail of batpak-serve, a real process
// following this test's writes, shows an event appended after the page
// loaded and its stream connected.
func TestBrowserLiveTail(t *testing.T) {
	dir := t.TempDir()
	s := openWriter(t, dir)
	writeWorkflow(t, s)
	srv := startServer(t, dir)
	ctx := browser(t)

	open(t, ctx, srv.url+"tail")
	require.Equal(t, 7, js[int](t, ctx, `document.querySelectorAll("#tail tbody tr").length`))
	waitJS(t, ctx, `document.querySelector("#tail-state").dataset.state === "live"`)

	late, err := s.Append(bg, event.MustCoordinate("late:1", "later"), kindMoved, map[string]any{"late": "yes"})
	require.NoError(t, err)
	row := fmt.Sprintf(`#tail tbody tr[data-global="%d"]`, late.Global)
	waitJS(t, ctx, fmt.Sprintf(`document.querySelector(%q)`, row))
	first := js[string](t, ctx, `document.querySelector("#tail tbody tr").dataset.global`)
	require.Equal(t, fmt.Sprint(late.Global), first, "the new event is on top")
	require.Contains(t, text(t, ctx, row), "late:1")
	require.Contains(t, text(t, ctx, row), `{"late":"yes"}`)

	// Its links lead to its page.
	follow(t, ctx, row+` a[href^="event?id="]`, late.ID.String())
	require.Contains(t, text(t, ctx, "#payload"), `"late": "yes"`)
	require.NoError(t, srv.stop(t), "stderr:\n%s", srv.errb.String())
}

// TestBrowserRunsNoInjectedScript: entities, scopes and payloads written
// to break out of HTML (and of the script's DOM building) show as text on
// every page, in the graph and in the live tail, and run nothing: each
// would set window.pwned if it ran. A control page that does not escape
// shows the check would see it.
func TestBrowserRunsNoInjectedScript(t *testing.T) {
	const (
		entity  = `<script>window.pwned="entity"</script>`
		scope   = `'><img src=x onerror="window.pwned='scope'">`
		payload = `"><img src=x onerror="window.pwned='payload'"><svg onload="window.pwned='svg'">`
	)
	dir := t.TempDir()
	s := openWriter(t, dir)
	w := writeWorkflow(t, s)
	hostile, err := s.AppendReaction(bg, event.MustCoordinate(entity, scope), kindMoved,
		map[string]any{"note": payload, payload: 1}, w.placed.Correlation, w.paid.ID)
	require.NoError(t, err)
	base := serveProgram(t, s)
	ctx := browser(t)

	pwned := `typeof window.pwned !== "undefined"`
	control := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html")
		fmt.Fprint(rw, "<!doctype html><p>"+payload+"</p>") // not escaped: must run
	}))
	defer control.Close()
	open(t, ctx, control.URL)
	waitJS(t, ctx, pwned)

	for _, p := range []struct{ path, shows string }{
		{"", entity}, {"entities", entity}, {"scopes", scope},
		{"entity?name=" + url.QueryEscape(entity), scope}, {"scope?name=" + url.QueryEscape(scope), entity},
		{"event?id=" + hostile.ID.String(), `<svg onload=`}, {"graph?c=" + w.placed.Correlation.String(), entity},
		{"tail", entity},
	} {
		open(t, ctx, base+p.path)
		if strings.HasPrefix(p.path, "graph") {
			waitJS(t, ctx, `document.querySelector("#graph").dataset.state === "drawn"`)
			require.Equal(t, 5, js[int](t, ctx, `document.querySelectorAll("#graph svg g.node").length`))
		}
		require.False(t, js[bool](t, ctx, pwned), "a script ran on %s", p.path)
		require.Zero(t, js[int](t, ctx, `document.querySelectorAll("img, main script, svg [onload]").length`), "%s holds injected elements", p.path)
		require.Contains(t, js[string](t, ctx, `document.body.innerText`), p.shows, "%s shows the hostile text as text", p.path)
	}
	open(t, ctx, base+"event?id="+hostile.ID.String())
	require.Contains(t, text(t, ctx, "#payload"), `window.pwned='payload'`)
	require.Contains(t, text(t, ctx, "#scope-link"), scope)

	// The same, arriving through the live tail's stream.
	open(t, ctx, base+"tail")
	waitJS(t, ctx, `document.querySelector("#tail-state").dataset.state === "live"`)
	again, err := s.Append(bg, event.MustCoordinate(entity, scope), kindMoved, map[string]any{"note": payload})
	require.NoError(t, err)
	waitJS(t, ctx, fmt.Sprintf(`document.querySelector('#tail tr[data-global="%d"]')`, again.Global))
	require.False(t, js[bool](t, ctx, pwned), "a script ran in the live tail")
	require.Zero(t, js[int](t, ctx, `document.querySelectorAll("img, main script, svg [onload]").length`))
	require.Contains(t, text(t, ctx, fmt.Sprintf(`#tail tr[data-global="%d"]`, again.Global)), entity)
}
